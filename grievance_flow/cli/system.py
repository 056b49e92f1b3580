"""Finding the running system: ``DIR/system.json`` from ``grievance up``, or the environment.

``up`` writes where its Temporal and API listen; commands that talk to a
running system (``audit``, ``projection rebuild``) read it back. An external
cluster (``grievance worker`` / ``grievance api`` deployments) is named by
``TEMPORAL_ADDRESS`` / ``TEMPORAL_NAMESPACE`` instead, and its read model by
``DATABASE_URL``.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from temporalio.client import Client

from grievance_flow.runtime import connect_temporal
from grievance_flow.settings import Settings

SYSTEM_FILE = "system.json"
CONNECT_PATIENCE = 10.0
"""Seconds to wait for Temporal before saying it cannot be reached."""


class SystemNotFoundError(Exception):
    """No running system could be found or reached; the message says what to do."""


@dataclass(frozen=True)
class SystemInfo:
    """What ``DIR/system.json`` holds."""

    temporal_address: str
    namespace: str
    task_queue: str
    api: str | None


def write_system_file(data_dir: Path, info: SystemInfo) -> Path:
    """Write ``DIR/system.json`` (atomically: a reader never sees half a file)."""
    path = data_dir / SYSTEM_FILE
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(asdict(info), indent=2) + "\n", "utf-8")
    temporary.replace(path)
    return path


def locate_system(data_dir: Path | None) -> tuple[Settings, str]:
    """Settings pointing at the running system, and a phrase saying where they came from.

    An explicit ``--data-dir`` wins; otherwise ``TEMPORAL_ADDRESS`` in the
    environment names an external cluster; otherwise the data dir
    (``GRIEVANCE_DATA_DIR`` or ``./data``) must hold ``system.json``.

    Raises:
        SystemNotFoundError: Neither is there.
    """
    settings = Settings()
    if data_dir is None and "temporal_address" in settings.model_fields_set:
        return settings, "TEMPORAL_ADDRESS"
    settings.data_dir = data_dir or settings.data_dir
    path = settings.data_dir / SYSTEM_FILE
    try:
        info = json.loads(path.read_text("utf-8"))
        settings.temporal_address = str(info["temporal_address"])
        settings.temporal_namespace = str(info.get("namespace") or "default")
        settings.task_queue = str(info.get("task_queue") or settings.task_queue)
        # up's dev server speaks plain gRPC: a cloud's TLS or key in the shell is not for it.
        settings.temporal_tls_cert = settings.temporal_tls_key = settings.temporal_tls_ca = None
        settings.temporal_api_key = None
    except FileNotFoundError:
        raise SystemNotFoundError(
            f"no running system found: {path} does not exist. Start one with "
            "'grievance up --data-dir DIR' and pass the same --data-dir, or set "
            "TEMPORAL_ADDRESS for an external cluster."
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SystemNotFoundError(
            f"{path} is unreadable ({exc!r}); restart 'grievance up'"
        ) from exc
    return settings, str(path)


async def connect(settings: Settings, source: str) -> Client:
    """Connect to the located Temporal, or say clearly that it does not answer.

    Raises:
        SystemNotFoundError: Temporal did not answer within :data:`CONNECT_PATIENCE`.
    """
    try:
        return await asyncio.wait_for(
            connect_temporal(settings),
            CONNECT_PATIENCE,
        )
    except Exception as exc:  # refused, unresolvable, timed out: all mean "not reachable"
        hint = " Is 'grievance up' running?" if source != "TEMPORAL_ADDRESS" else ""
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SystemNotFoundError(
            f"cannot reach Temporal at {settings.temporal_address} (from {source}): {reason}.{hint}"
        ) from exc
