"""Process configuration, read once at start-up from the environment.

Every process (worker, API, ``up``) builds one :class:`Settings`; nothing reads
the environment later, and workflow code never does.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from grievance_flow.logs import LogFormat
from grievance_flow.workflows.contracts import TASK_QUEUE


class Settings(BaseSettings):
    """Where Temporal, the read model and the catalogue are.

    Attributes:
        temporal_address: ``TEMPORAL_ADDRESS``, host:port of the Temporal frontend.
        temporal_namespace: ``TEMPORAL_NAMESPACE``.
        temporal_tls_cert: ``TEMPORAL_TLS_CERT``, a PEM client certificate file for
            mTLS (Temporal Cloud, or a cluster of your own); needs the key too.
        temporal_tls_key: ``TEMPORAL_TLS_KEY``, the PEM private key of that certificate.
        temporal_tls_ca: ``TEMPORAL_TLS_CA``, a PEM file of the CA that signed the
            server's certificate, when it is not one the system trusts.
        temporal_api_key: ``TEMPORAL_API_KEY``, a Temporal Cloud API key; sent as a
            bearer token, over TLS.
        task_queue: ``GRIEVANCE_TASK_QUEUE``, the queue cases run on.
        database_url: ``DATABASE_URL``; unset means SQLite in the data dir.
        catalogue: ``CATALOGUE``, a catalogue YAML file; unset means the bundled one.
        calendar_overrides: ``CALENDAR_OVERRIDES``, a YAML file of extra holidays
            and working days (added to the catalogue's ``calendar_overrides``).
        data_dir: ``GRIEVANCE_DATA_DIR``, where ``up`` keeps its state.
        codec_keys: ``GRIEVANCE_CODEC_KEYS``, the payload codec's key ring: its JSON,
            or the path of its file; unset means the data dir's ``codec-keys.json``
            if there is one, else payloads go to Temporal unencrypted (SPEC §12).
        audit_key: ``GRIEVANCE_AUDIT_KEY``, the Ed25519 audit key (PEM) that signs
            exported histories; unset means the data dir's ``audit-key.pem``.
        archive_dir: ``GRIEVANCE_ARCHIVE_DIR``, where the archive Schedule writes the
            signed bundles of closed cases; unset means ``DIR/archive``.
        workflow_cache: ``GRIEVANCE_WORKFLOW_CACHE``, open cases a worker keeps in memory.
        workflow_sandbox: ``GRIEVANCE_WORKFLOW_SANDBOX``; true runs workflow code in
            Temporal's sandbox (restricted imports, re-imported per run). Off by
            default in a worker process: the test suite runs every workflow
            inside the sandbox, which is where a non-deterministic call is
            caught, and the sandbox costs a running system about a quarter of
            its worker CPU (README, "Performance").
        notice_webhook_url: ``NOTICE_WEBHOOK_URL``; when set, the worker also POSTs
            every notice (chase, escalation, extension decision) there as JSON.
        notice_webhook_timeout: ``NOTICE_WEBHOOK_TIMEOUT``, seconds one webhook
            attempt may take before it counts as failed (and is retried).
        notice_delivery_window: ``NOTICE_DELIVERY_WINDOW`` (seconds, or an ISO
            8601 duration such as ``PT6H``), how long after it was due a notice
            is retried before it is marked ``failed``; at most 24 hours.
        webhook_timeout: ``WEBHOOK_TIMEOUT``, seconds one webhook attempt to a
            subscriber (SPEC §10) may take.
        webhook_delivery_window: ``WEBHOOK_DELIVERY_WINDOW`` (seconds or ISO 8601),
            how long a subscriber's message is retried before it is ``failed``.
        webhook_allowed_hosts: ``WEBHOOK_ALLOWED_HOSTS``, a comma list of the
            hosts subscriber URLs may name (``*.example.cn`` for a domain's
            hosts); unset, any host, loopback and private addresses included.
        metrics_port: ``GRIEVANCE_METRICS_PORT``; when set, a worker serves
            Prometheus metrics (the Temporal SDK's and the SLA clocks') on it.
        metrics_host: ``GRIEVANCE_METRICS_HOST``, the address that port binds
            (default all interfaces, so a scraper in another container reaches it).
        log_format: ``GRIEVANCE_LOG_FORMAT``, ``text`` (default) or ``json``: one
            JSON object per line, with ``case_id`` on lines about a case.
    """

    model_config = SettingsConfigDict(extra="ignore")

    temporal_address: str = Field(
        default="127.0.0.1:7233", validation_alias=AliasChoices("TEMPORAL_ADDRESS")
    )
    temporal_namespace: str = Field(
        default="default", validation_alias=AliasChoices("TEMPORAL_NAMESPACE")
    )
    temporal_tls_cert: Path | None = Field(
        default=None, validation_alias=AliasChoices("TEMPORAL_TLS_CERT")
    )
    temporal_tls_key: Path | None = Field(
        default=None, validate_default=True, validation_alias=AliasChoices("TEMPORAL_TLS_KEY")
    )
    temporal_tls_ca: Path | None = Field(
        default=None, validation_alias=AliasChoices("TEMPORAL_TLS_CA")
    )
    # SecretStr: the key never shows in a repr, a log line or a validation error.
    temporal_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("TEMPORAL_API_KEY")
    )
    task_queue: str = Field(
        default=TASK_QUEUE, validation_alias=AliasChoices("GRIEVANCE_TASK_QUEUE")
    )
    database_url: str | None = Field(default=None, validation_alias=AliasChoices("DATABASE_URL"))
    catalogue: Path | None = Field(default=None, validation_alias=AliasChoices("CATALOGUE"))
    calendar_overrides: Path | None = Field(
        default=None, validation_alias=AliasChoices("CALENDAR_OVERRIDES")
    )
    data_dir: Path = Field(
        default=Path("data"), validation_alias=AliasChoices("GRIEVANCE_DATA_DIR")
    )
    codec_keys: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("GRIEVANCE_CODEC_KEYS")
    )
    audit_key: Path | None = Field(
        default=None, validation_alias=AliasChoices("GRIEVANCE_AUDIT_KEY")
    )
    archive_dir: Path | None = Field(
        default=None, validation_alias=AliasChoices("GRIEVANCE_ARCHIVE_DIR")
    )
    notice_webhook_url: str | None = Field(
        default=None, validation_alias=AliasChoices("NOTICE_WEBHOOK_URL")
    )
    notice_webhook_timeout: float = Field(
        default=10.0, gt=0, validation_alias=AliasChoices("NOTICE_WEBHOOK_TIMEOUT")
    )
    # At most 24 h (SPEC §10): the delivery workflow's schedule-to-close timeout
    # (workflows/notice_delivery.py) is a fixed 25 h, so a longer window would be
    # cut short by Temporal before the activity could mark the notice failed.
    notice_delivery_window: timedelta = Field(
        default=timedelta(hours=24),
        gt=timedelta(0),
        le=timedelta(hours=24),
        validation_alias=AliasChoices("NOTICE_DELIVERY_WINDOW"),
    )
    webhook_timeout: float = Field(
        default=10.0, gt=0, validation_alias=AliasChoices("WEBHOOK_TIMEOUT")
    )
    webhook_delivery_window: timedelta = Field(
        default=timedelta(hours=24),
        gt=timedelta(0),
        validation_alias=AliasChoices("WEBHOOK_DELIVERY_WINDOW"),
    )
    webhook_allowed_hosts: str | None = Field(
        default=None, validation_alias=AliasChoices("WEBHOOK_ALLOWED_HOSTS")
    )
    workflow_cache: int = Field(
        default=3_500, ge=1, validation_alias=AliasChoices("GRIEVANCE_WORKFLOW_CACHE")
    )
    workflow_sandbox: bool = Field(
        default=False, validation_alias=AliasChoices("GRIEVANCE_WORKFLOW_SANDBOX")
    )

    # Observability (SPEC §8): worker metrics and the log format.
    metrics_port: int | None = Field(
        default=None, ge=1, le=65535, validation_alias=AliasChoices("GRIEVANCE_METRICS_PORT")
    )
    metrics_host: str = Field(
        default="0.0.0.0", validation_alias=AliasChoices("GRIEVANCE_METRICS_HOST")
    )
    log_format: LogFormat = Field(
        default="text", validation_alias=AliasChoices("GRIEVANCE_LOG_FORMAT")
    )

    @field_validator("temporal_tls_key")
    @classmethod
    def _key_with_certificate(cls, key: Path | None, info: ValidationInfo) -> Path | None:
        """A client certificate is no use without its key, nor the key without it.

        A field check, not a model one: a model-level error would quote every
        input, ``TEMPORAL_API_KEY`` included; this one quotes only the key's path.
        """
        if (key is None) != (info.data.get("temporal_tls_cert") is None):
            raise ValueError("set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY together, or neither")
        return key

    @field_validator("notice_delivery_window", "webhook_delivery_window", mode="before")
    @classmethod
    def _seconds(cls, value: object) -> object:
        """Read a plain number (``"3600"``, from the environment) as seconds."""
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                return value  # an ISO 8601 duration, or an error pydantic reports
        return value


def settings_for(data_dir: Path | None) -> Settings:
    """The environment's settings, with ``--data-dir`` in place of its data dir when given."""
    settings = Settings()
    if data_dir is not None:
        settings.data_dir = data_dir
    return settings
