"""Process configuration, read once at start-up from the environment.

Every process (worker, API, ``up``) builds one :class:`Settings`; nothing reads
the environment later, and workflow code never does.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from grievance_flow.workflows.contracts import TASK_QUEUE


class Settings(BaseSettings):
    """Where Temporal, the read model and the catalogue are.

    Attributes:
        temporal_address: ``TEMPORAL_ADDRESS``, host:port of the Temporal frontend.
        temporal_namespace: ``TEMPORAL_NAMESPACE``.
        task_queue: ``GRIEVANCE_TASK_QUEUE``, the queue cases run on.
        database_url: ``DATABASE_URL``; unset means SQLite in the data dir.
        catalogue: ``CATALOGUE``, a catalogue YAML file; unset means the bundled one.
        calendar_overrides: ``CALENDAR_OVERRIDES``, a YAML file of extra holidays
            and working days (added to the catalogue's ``calendar_overrides``).
        data_dir: ``GRIEVANCE_DATA_DIR``, where ``up`` keeps its state.
        workflow_cache: ``GRIEVANCE_WORKFLOW_CACHE``, open cases a worker keeps in memory.
        notice_webhook_url: ``NOTICE_WEBHOOK_URL``; when set, the worker also POSTs
            every notice (chase, escalation, extension decision) there as JSON.
        notice_webhook_timeout: ``NOTICE_WEBHOOK_TIMEOUT``, seconds one webhook
            attempt may take before it counts as failed (and is retried).
    """

    model_config = SettingsConfigDict(extra="ignore")

    temporal_address: str = Field(
        default="127.0.0.1:7233", validation_alias=AliasChoices("TEMPORAL_ADDRESS")
    )
    temporal_namespace: str = Field(
        default="default", validation_alias=AliasChoices("TEMPORAL_NAMESPACE")
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
    notice_webhook_url: str | None = Field(
        default=None, validation_alias=AliasChoices("NOTICE_WEBHOOK_URL")
    )
    notice_webhook_timeout: float = Field(
        default=10.0, gt=0, validation_alias=AliasChoices("NOTICE_WEBHOOK_TIMEOUT")
    )
    workflow_cache: int = Field(
        default=10_000, ge=1, validation_alias=AliasChoices("GRIEVANCE_WORKFLOW_CACHE")
    )
