"""Wiring shared by every entry point: catalogue, calendar, database and Temporal client.

Built once per process at start-up (never per request or per activity).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.service import TLSConfig

from grievance_flow.catalogue.loader import load_catalogue
from grievance_flow.catalogue.model import Catalogue
from grievance_flow.codec.converter import converter_for, settings_ring
from grievance_flow.deadlines.calendar import WorkingCalendar, load_overrides_file, merge
from grievance_flow.deadlines.coverage import local_today, log_calendar_coverage
from grievance_flow.settings import Settings
from grievance_flow.store.engine import make_engine, migrate, sqlite_url_for
from grievance_flow.store.sealing import FieldCipher, seal_read_model


@dataclass
class Domain:
    """The loaded catalogue and the calendar its deadlines are counted on."""

    catalogue: Catalogue
    calendar: WorkingCalendar


def load_domain(catalogue_path: Path | None, overrides_path: Path | None = None) -> Domain:
    """Load and validate the catalogue, and build the working-day calendar.

    Raises:
        CatalogueError: The catalogue is malformed; the message names the entry.
    """
    catalogue = load_catalogue(catalogue_path)
    overrides = catalogue.calendar_overrides
    if overrides_path is not None:
        overrides = merge(overrides, load_overrides_file(overrides_path))
    domain = Domain(catalogue=catalogue, calendar=WorkingCalendar(overrides))
    # Every process says at start which calendar serves which year, and warns
    # loudly when the next 60 days reach a year without its official 调休.
    log_calendar_coverage(domain.calendar, local_today(catalogue.timezone_info))
    return domain


def database_url(settings: Settings) -> str:
    """``DATABASE_URL``, or the SQLite read model in the data dir."""
    if settings.database_url:
        return settings.database_url
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return sqlite_url_for(settings.data_dir)


def open_database(settings: Settings) -> Engine:
    """Create the engine and bring the schema to the newest migration.

    With a codec key ring the engine seals reporters' names and phones at rest
    (:mod:`grievance_flow.store.sealing`).

    Raises:
        CodecKeyError: The configured ring cannot be used.
    """
    engine = make_engine(database_url(settings))
    migrate(engine)
    ring = settings_ring(settings)
    return seal_read_model(engine, FieldCipher(ring) if ring is not None else None)


def temporal_tls(settings: Settings) -> TLSConfig | None:
    """The TLS the client connects with: from the ``TEMPORAL_TLS_*`` files, or None.

    None lets the SDK decide: plain for a cluster of your own, TLS when an API
    key is set (Temporal Cloud). A client certificate or a CA file means TLS.

    Raises:
        OSError: A named file cannot be read.
    """
    cert, key, ca = settings.temporal_tls_cert, settings.temporal_tls_key, settings.temporal_tls_ca
    if cert is None and key is None and ca is None:
        return None
    return TLSConfig(
        client_cert=cert.read_bytes() if cert else None,
        client_private_key=key.read_bytes() if key else None,
        server_root_ca_cert=ca.read_bytes() if ca else None,
    )


async def connect_temporal(settings: Settings) -> Client:
    """The process's one Temporal client, with TLS and the API key when they are set."""
    api_key = settings.temporal_api_key
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        tls=temporal_tls(settings),
        api_key=api_key.get_secret_value() if api_key else None,
        data_converter=converter_for(settings),
    )
