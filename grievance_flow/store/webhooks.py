"""Webhook subscriptions, and the outbox of their deliveries, in the read model.

The outbox is written by the projection, in the transaction that records the
events (:func:`enqueue_into`): one ``pending`` row per public event and
matching subscriber, keyed ``(subscription, case, seq)`` so a projection run
again adds nothing. Each subscriber's delivery workflow drains its rows
(:func:`due_deliveries`): per case, only the oldest undelivered one is due,
so a case's events arrive in ``seq`` order; a row waiting for its retry holds
back the later events of its case, not other cases'.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine, Executable, Table, and_, select, update

from grievance_flow.store.dialect import insert_for
from grievance_flow.store.models import WebhookDelivery, WebhookSubscription

_subscriptions: Table = WebhookSubscription.__table__  # type: ignore[attr-defined]
_deliveries: Table = WebhookDelivery.__table__  # type: ignore[attr-defined]


class WebhookStatus(StrEnum):
    """Where one delivery stands."""

    PENDING = "pending"
    RETRYING = "retrying"
    DELIVERED = "delivered"
    FAILED = "failed"


_OPEN = [WebhookStatus.PENDING.value, WebhookStatus.RETRYING.value]


@dataclass(frozen=True)
class Subscription:
    """A subscriber: where to send, which event types (None: all), and the signing secret."""

    id: str
    url: str
    events: list[str] | None
    secret: str
    created_at: datetime
    deleted_at: datetime | None = None


@dataclass(frozen=True)
class Delivery:
    """One message to one subscriber and how sending it went."""

    subscription_id: str
    case_id: str
    seq: int
    type: str
    payload: dict[str, Any]
    status: WebhookStatus
    attempts: int
    last_error: str | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime
    window_started_at: datetime
    delivered_at: datetime | None
    created_at: datetime

    @property
    def message_id(self) -> str:
        """The ``webhook-id``: the event's own id, the same on every attempt."""
        return str(self.payload["id"])

    @property
    def id(self) -> str:
        """The delivery's id in the API: ``<case>:<seq>`` (unique per subscriber)."""
        return f"{self.case_id}:{self.seq}"


def new_subscription_id() -> str:
    """A fresh subscription id, ``wh_`` and 16 random characters."""
    return "wh_" + secrets.token_urlsafe(12)


def _subscription(row: Any) -> Subscription:
    return Subscription(
        id=row.id,
        url=row.url,
        events=row.events,
        secret=row.secret,
        created_at=row.created_at,
        deleted_at=row.deleted_at,
    )


def create_subscription(
    engine: Engine, *, url: str, events: Sequence[str] | None, secret: str, at: datetime
) -> Subscription:
    """Store a new subscription."""
    subscription = Subscription(
        id=new_subscription_id(),
        url=url,
        events=list(events) if events is not None else None,
        secret=secret,
        created_at=at,
    )
    row = {
        "id": subscription.id,
        "url": url,
        "events": subscription.events,
        "event_filter": "," + ",".join(events) + "," if events is not None else None,
        "secret": secret,
        "created_at": at,
        "deleted_at": None,
    }
    with engine.begin() as connection:
        connection.execute(_subscriptions.insert().values(row))
    return subscription


def get_subscription(engine: Engine, subscription_id: str) -> Subscription | None:
    """The subscription, deleted or not; None if there never was one."""
    with engine.connect() as connection:
        row = connection.execute(
            select(_subscriptions).where(_subscriptions.c.id == subscription_id)
        ).first()
    return _subscription(row) if row is not None else None


def list_subscriptions(engine: Engine) -> list[Subscription]:
    """The subscriptions not deleted, oldest first."""
    statement = (
        select(_subscriptions)
        .where(_subscriptions.c.deleted_at.is_(None))
        .order_by(_subscriptions.c.created_at, _subscriptions.c.id)
    )
    with engine.connect() as connection:
        return [_subscription(row) for row in connection.execute(statement)]


def delete_subscription(engine: Engine, subscription_id: str, *, at: datetime) -> bool:
    """Stop sending to the subscription; True if it existed and was not deleted already."""
    statement = (
        update(_subscriptions)
        .where(_subscriptions.c.id == subscription_id, _subscriptions.c.deleted_at.is_(None))
        .values(deleted_at=at)
    )
    with engine.begin() as connection:
        return connection.execute(statement).rowcount == 1


def enqueue_into(
    connection: Connection, messages: Sequence[tuple[str, int, str, dict[str, Any]]], at: datetime
) -> None:
    """Add a ``pending`` delivery of each message for every live subscriber that wants it.

    One INSERT ... SELECT per message, inside the projection's transaction;
    a message already queued for a subscriber is left as it is.

    Args:
        connection: The projection's connection.
        messages: ``(case_id, seq, event type, payload)`` of each new public event.
        at: When they are queued (the window of their retries starts then).
    """
    if not messages:
        return
    insert = _enqueue_statement(connection.dialect.name)
    connection.execute(
        insert,
        [
            {
                "case_id": case_id,
                "seq": seq,
                "type": kind,
                "payload": payload,
                "pattern": f",{kind},",
                "at": at,
            }
            for case_id, seq, kind, payload in messages
        ],
    )


@cache
def _enqueue_statement(dialect: str) -> Executable:
    """The INSERT ... SELECT of :func:`enqueue_into`, built once per dialect.

    Built once, SQLAlchemy compiles it once: a projection runs it for every
    batch of events, subscribers or not (about 0.1 ms on SQLite).
    """
    wanted = sa.or_(
        _subscriptions.c.event_filter.is_(None),
        _subscriptions.c.event_filter.contains(sa.bindparam("pattern")),
    )
    at = sa.bindparam("at", type_=_deliveries.c.created_at.type)
    chosen = select(
        _subscriptions.c.id,
        sa.bindparam("case_id"),
        sa.bindparam("seq"),
        sa.bindparam("type"),
        sa.bindparam("payload", type_=_deliveries.c.payload.type),
        sa.literal(WebhookStatus.PENDING.value),
        sa.literal(0),
        at,
        at,
        at,
    ).where(_subscriptions.c.deleted_at.is_(None), wanted)
    columns = [
        "subscription_id",
        "case_id",
        "seq",
        "type",
        "payload",
        "status",
        "attempts",
        "next_attempt_at",
        "window_started_at",
        "created_at",
    ]
    return insert_for(dialect, _deliveries).from_select(columns, chosen).on_conflict_do_nothing()


def _delivery(row: Any) -> Delivery:
    return Delivery(
        subscription_id=row.subscription_id,
        case_id=row.case_id,
        seq=row.seq,
        type=row.type,
        payload=row.payload,
        status=WebhookStatus(row.status),
        attempts=row.attempts,
        last_error=row.last_error,
        last_attempt_at=row.last_attempt_at,
        next_attempt_at=row.next_attempt_at,
        window_started_at=row.window_started_at,
        delivered_at=row.delivered_at,
        created_at=row.created_at,
    )


def due_deliveries(
    engine: Engine, subscription_id: str, *, now: datetime, limit: int
) -> list[Delivery]:
    """The subscriber's deliveries due at ``now``: per case, the oldest undelivered one only."""
    earlier = _deliveries.alias("earlier")
    blocked = (
        select(sa.literal(1))
        .where(
            earlier.c.subscription_id == _deliveries.c.subscription_id,
            earlier.c.case_id == _deliveries.c.case_id,
            earlier.c.seq < _deliveries.c.seq,
            earlier.c.status.in_(_OPEN),
        )
        .exists()
    )
    statement = (
        select(_deliveries)
        .where(
            _deliveries.c.subscription_id == subscription_id,
            _deliveries.c.status.in_(_OPEN),
            _deliveries.c.next_attempt_at <= now,
            ~blocked,
        )
        .order_by(_deliveries.c.created_at, _deliveries.c.case_id, _deliveries.c.seq)
        .limit(limit)
    )
    with engine.connect() as connection:
        return [_delivery(row) for row in connection.execute(statement)]


def next_due(engine: Engine, subscription_id: str) -> datetime | None:
    """When the subscriber's next undelivered delivery is due, or None if none is."""
    statement = select(sa.func.min(_deliveries.c.next_attempt_at)).where(
        _deliveries.c.subscription_id == subscription_id, _deliveries.c.status.in_(_OPEN)
    )
    with engine.connect() as connection:
        found: datetime | None = connection.execute(statement).scalar_one_or_none()
    return found


def _key(delivery: Delivery) -> Any:
    return and_(
        _deliveries.c.subscription_id == delivery.subscription_id,
        _deliveries.c.case_id == delivery.case_id,
        _deliveries.c.seq == delivery.seq,
        _deliveries.c.status.in_(_OPEN),
    )


def mark_delivered(engine: Engine, delivery: Delivery, at: datetime) -> None:
    """One attempt at ``at``, taken."""
    values = {
        "status": WebhookStatus.DELIVERED.value,
        "attempts": _deliveries.c.attempts + 1,
        "last_attempt_at": at,
        "delivered_at": at,
    }
    with engine.begin() as connection:
        connection.execute(update(_deliveries).where(_key(delivery)).values(values))


def mark_retrying(
    engine: Engine, delivery: Delivery, at: datetime, error: str, next_attempt_at: datetime
) -> None:
    """One attempt at ``at`` not taken, for a reason that may pass; try again then."""
    values = {
        "status": WebhookStatus.RETRYING.value,
        "attempts": _deliveries.c.attempts + 1,
        "last_attempt_at": at,
        "last_error": error,
        "next_attempt_at": next_attempt_at,
    }
    with engine.begin() as connection:
        connection.execute(update(_deliveries).where(_key(delivery)).values(values))


def mark_failed(
    engine: Engine, delivery: Delivery, at: datetime, error: str, *, attempted: bool = True
) -> None:
    """Given up at ``at``: a final answer, or its window spent."""
    values: dict[str, Any] = {"status": WebhookStatus.FAILED.value, "last_error": error}
    if attempted:
        values |= {"attempts": _deliveries.c.attempts + 1, "last_attempt_at": at}
    with engine.begin() as connection:
        connection.execute(update(_deliveries).where(_key(delivery)).values(values))


def list_deliveries(
    engine: Engine,
    subscription_id: str,
    *,
    status: WebhookStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Delivery], int]:
    """The subscriber's deliveries, newest first, and how many match."""
    conditions = [_deliveries.c.subscription_id == subscription_id]
    if status is not None:
        conditions.append(_deliveries.c.status == status.value)
    count = select(sa.func.count()).select_from(_deliveries).where(*conditions)
    page = (
        select(_deliveries)
        .where(*conditions)
        .order_by(_deliveries.c.created_at.desc(), _deliveries.c.case_id, _deliveries.c.seq.desc())
        .limit(limit)
        .offset(offset)
    )
    with engine.connect() as connection:
        total = connection.execute(count).scalar_one()
        rows = [_delivery(row) for row in connection.execute(page)]
    return rows, total


def retry_delivery(
    engine: Engine, subscription_id: str, case_id: str, seq: int, *, at: datetime
) -> Delivery | None:
    """Put a failed delivery back to ``pending`` with a fresh window; None if not failed.

    Raises:
        LookupError: No such delivery.
    """
    key = and_(
        _deliveries.c.subscription_id == subscription_id,
        _deliveries.c.case_id == case_id,
        _deliveries.c.seq == seq,
    )
    with engine.begin() as connection:
        row = connection.execute(select(_deliveries).where(key)).first()
        if row is None:
            raise LookupError(f"{case_id}:{seq}")
        if row.status != WebhookStatus.FAILED.value:
            return None
        connection.execute(
            update(_deliveries)
            .where(key)
            .values(
                status=WebhookStatus.PENDING.value,
                next_attempt_at=at,
                window_started_at=at,
            )
        )
        row = connection.execute(select(_deliveries).where(key)).one()
    return _delivery(row)
