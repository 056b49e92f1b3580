"""The read model's tables.

Written only by the projection activity (``cases``, ``events``), the notice
activity (``notices``) and key management (``api_keys``); read by the API.
Temporal stays the source of truth: every row here can be rebuilt from
workflow histories (notices too: each is an activity input in a history).

Enum-valued columns (stage, status, role, ...) are plain strings rather than
database enums, so a new stage or event type never needs a schema migration.
Keep these classes in step with ``migrations/versions``; a test compares them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from grievance_flow.store.columns import JSONType, UTCDateTime


class CaseRecord(SQLModel, table=True):
    """One row per case: the filterable facts, plus the whole CaseView in ``doc``.

    The flat columns exist to filter, sort and (later) compute KPIs; ``doc`` is
    what ``get_case``/``list_cases`` return, so a closed case whose workflow
    Temporal has already dropped from retention can still be served in full.
    """

    __tablename__ = "cases"
    __table_args__ = (
        # The intake's duplicate search (queries.possible_duplicates): equality on
        # the first three, newest first on the last, so the ten newest come
        # straight from the index however many cases a grid has (migration 0010).
        sa.Index("ix_cases_duplicates", "grid", "suggested_category", "status", "created_at", "id"),
    )

    id: str = Field(primary_key=True)
    external_id: str = Field(unique=True, index=True)
    channel: str
    stage: str = Field(index=True)
    status: str = Field(index=True)
    category: str | None = Field(default=None, index=True)
    suggested_category: str | None = Field(default=None, index=True)
    tier: str | None = None
    unit: str | None = Field(default=None, index=True)
    co_units: list[str] = Field(default_factory=list, sa_type=JSONType)
    reporter_name: str
    """Sealed when the system has a codec key ring (``store/sealing.py``)."""
    reporter_phone: str
    """Sealed when the system has a codec key ring (``store/sealing.py``)."""
    reporter_phone_hash: str | None = Field(default=None, max_length=64, index=True)
    """HMAC of the phone's digits, for 重复来电 lookups; NULL on a plain read model."""
    description: str = Field(sa_type=sa.Text)
    address: str
    grid: str = Field(index=True)
    lat: float | None = None
    lon: float | None = None
    urgent: bool = False
    supervised: bool = False
    escalations: int = 0
    returns: int = 0
    reopens: int = 0
    outcome: str | None = None
    # KPI facts (SPEC §7): fixed at close, NULL while not yet accepted/completed.
    accepted_on_time: bool | None = None
    completed_on_time: bool | None = None
    overdue_stages: list[str] = Field(
        default_factory=list, sa_type=JSONType, sa_column_kwargs={"server_default": "[]"}
    )
    sla_stage: str | None = None
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    warn_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    """When the current stage's clock turns yellow (黄灯); NULL with ``due_at``."""
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_seq: int = 0
    version: int = Field(default=0, sa_type=sa.BigInteger, sa_column_kwargs={"server_default": "0"})
    """Start (µs) of the workflow task whose projection wrote the row (0: before 0004)."""
    doc: dict[str, Any] = Field(sa_type=JSONType)


class EventRecord(SQLModel, table=True):
    """One timeline entry; ``(case_id, seq)`` makes re-projection a no-op."""

    __tablename__ = "events"
    # Named, so a later batch migration on SQLite can find and alter it.
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_events_case_id_cases", ondelete="CASCADE"
        ),
    )

    case_id: str = Field(primary_key=True)
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    type: str
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    actor_role: str
    actor_unit: str | None = None
    actor_holder: str | None = None
    """Who holds the key the action came with (SPEC §7); NULL for the system."""
    actor_key_id: str | None = Field(default=None, max_length=32)
    stage: str
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    version: int = Field(default=0, sa_type=sa.BigInteger, sa_column_kwargs={"server_default": "0"})
    """Start (µs) of the workflow task whose projection wrote the row (0: before 0004)."""


class NoticeRecord(SQLModel, table=True):
    """One notice sent to a unit or the command centre; ``id`` is the Notice's own.

    ``delivered_at`` stays NULL until every configured channel has taken it, so
    a NULL on an old row means delivery is still being retried (or gave up).
    """

    __tablename__ = "notices"

    id: str = Field(primary_key=True)
    case_id: str = Field(index=True)
    kind: str
    recipient_role: str
    recipient_unit: str | None = Field(default=None, index=True)
    message: str = Field(sa_type=sa.Text)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(
        default="pending", index=True, sa_column_kwargs={"server_default": "pending"}
    )
    """``pending`` (not tried yet), ``retrying``, ``delivered`` or ``failed`` (final)."""
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    last_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ActionRequest(SQLModel, table=True):
    """The first answer to an action sent with an ``Idempotency-Key`` (SPEC §4a).

    ``body`` is the error body of a refusal, or the unmasked CaseView of a
    success (masked per reader when it is answered again).
    """

    __tablename__ = "action_requests"

    case_id: str = Field(primary_key=True)
    key: str = Field(primary_key=True, max_length=128)
    action: str
    fingerprint: str = Field(max_length=64)
    """SHA-256 of the action and its body: the same key with another request is refused."""
    status_code: int
    body: dict[str, Any] = Field(sa_type=JSONType)
    created_at: datetime = Field(sa_type=UTCDateTime)


class ApiKey(SQLModel, table=True):
    """An API key, stored only as the SHA-256 of the plaintext."""

    __tablename__ = "api_keys"

    key_hash: str = Field(primary_key=True, max_length=64)
    key_id: str = Field(max_length=32, unique=True, index=True)
    """``k_`` and the hash's first 16 hex digits: names the key, reveals nothing."""
    role: str
    unit: str | None = None
    label: str = ""
    """The key's holder (SPEC §7: a person or desk), recorded with every action."""
    created_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When the key was revoked; from then on it answers 401."""


class WebhookSubscription(SQLModel, table=True):
    """A subscriber to case events (SPEC §10); ``secret`` signs what it is sent.

    The secret is stored as issued because signing needs it (it is shown to the
    admin once). A deleted subscription keeps its row, ``deleted_at`` set, so
    its deliveries stay listable; nothing more is sent to it.
    """

    __tablename__ = "webhook_subscriptions"

    id: str = Field(primary_key=True)
    url: str = Field(sa_type=sa.Text)
    events: list[str] | None = Field(default=None, sa_type=JSONType)
    """The event types it wants (``dispatched``...); None: every public one."""
    event_filter: str | None = Field(default=None, sa_type=sa.Text)
    """``events`` as ``,a,b,`` for a portable SQL match; None: every public one."""
    secret: str
    created_at: datetime = Field(sa_type=UTCDateTime)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebhookDelivery(SQLModel, table=True):
    """One case event to one subscriber: its message and how sending it went.

    Written (``pending``) in the same transaction as the event's projection,
    so no event is lost between the two; sent in ``seq`` order per case by the
    subscriber's delivery workflow. ``pending``/``retrying`` → ``delivered`` or
    ``failed`` (final until retried by hand).
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.Index("ix_webhook_deliveries_due", "subscription_id", "status", "next_attempt_at"),
    )

    subscription_id: str = Field(primary_key=True)
    case_id: str = Field(primary_key=True)
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    type: str
    payload: dict[str, Any] = Field(sa_type=JSONType)
    status: str = Field(default="pending")
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    last_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    window_started_at: datetime = Field(sa_type=UTCDateTime)
    """When its retry window (24 h) began: enqueued, or retried by hand."""
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
