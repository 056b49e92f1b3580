"""Notices in the read model: recorded once, their delivery tracked, listed per recipient.

Written by the notice activity, which Temporal retries: the notice id (chosen
by the workflow, so stable across retries and replays) is the primary key, and
recording the same notice again is a no-op. Each delivery attempt is counted
on the row: ``pending`` (not tried yet) → ``retrying`` (tried, may pass) →
``delivered`` or ``failed``, the last two final: no later write moves a
notice out of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, Connection, Engine, Table, Update, func, update
from sqlmodel import Session, col, select

from grievance_flow.store.dialect import insert_for
from grievance_flow.store.models import NoticeRecord
from grievance_flow.store.serialization import to_jsonable
from grievance_flow.workflows.contracts import Notice, NoticeKind, Role

_notices: Table = NoticeRecord.__table__  # type: ignore[attr-defined]


class DeliveryStatus(StrEnum):
    """Where a notice's delivery stands (``notices.status``)."""

    PENDING = "pending"
    """Recorded, not tried yet."""
    RETRYING = "retrying"
    """Tried and not taken, for a reason that may pass; it will be tried again."""
    DELIVERED = "delivered"
    """Every channel took it (final)."""
    FAILED = "failed"
    """Given up: the receiver refused it for good, or the delivery window ran out (final)."""

    @property
    def is_final(self) -> bool:
        """True for ``delivered`` and ``failed``: nothing more will be tried."""
        return self in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED)


_FINAL = [status.value for status in DeliveryStatus if status.is_final]


@dataclass(frozen=True)
class NoticeDelivery:
    """A stored notice and how its delivery went."""

    notice: Notice
    status: DeliveryStatus
    attempts: int
    """Delivery attempts made (each one through every channel)."""
    last_error: str | None
    """Why the last attempt that failed did (kept after a later success)."""
    last_attempt_at: datetime | None
    delivered_at: datetime | None


def record_notice(engine: Engine, notice: Notice, *, delivered_at: datetime | None = None) -> bool:
    """Store ``notice`` unless a notice with its id is already stored.

    With ``delivered_at``, it is stored as already ``delivered`` then, after
    one attempt: what a hand-over that delivered it in-process records in one
    statement. A copy already stored is left as it was either way.

    Returns:
        True if this call stored it, False if it was already there (the stored
        copy is left as it was).

    Raises:
        ValueError: ``notice.at`` is naive, or its data holds a naive datetime.
        TypeError: ``notice.data`` holds a value with no JSON form.
    """
    with engine.begin() as connection:
        return record_notice_into(connection, notice, delivered_at=delivered_at)


def record_notice_into(
    connection: Connection, notice: Notice, *, delivered_at: datetime | None = None
) -> bool:
    """:func:`record_notice` inside the caller's transaction on ``connection``."""
    plain = to_jsonable(notice)  # refuses a naive time before it reaches SQL
    row = {
        "id": notice.id,
        "case_id": notice.case_id,
        "kind": plain["kind"],
        "recipient_role": plain["recipient_role"],
        "recipient_unit": notice.recipient_unit,
        "message": notice.message,
        "at": notice.at,
        "data": plain["data"],
        "delivered_at": None,
        "status": DeliveryStatus.PENDING.value,
        "attempts": 0,
    }
    if delivered_at is not None:
        row |= {
            "delivered_at": delivered_at,
            "status": DeliveryStatus.DELIVERED.value,
            "attempts": 1,
            "last_attempt_at": delivered_at,
        }
    # Insert-or-ignore in one statement: two attempts of the same activity (a
    # retry racing a slow first try) must not both insert or both fail.
    # RETURNING says whether this statement inserted; rowcount is not reliable
    # across drivers for INSERT ... ON CONFLICT DO NOTHING.
    insert = insert_for(connection.dialect.name, _notices).on_conflict_do_nothing()
    inserted = connection.execute(insert.values(row).returning(_notices.c.id)).first()
    return inserted is not None


def record_delivered_into(connection: Connection, notice: Notice, at: datetime) -> None:
    """Record ``notice`` as delivered at ``at`` (aware), in the caller's transaction.

    Stored as ``delivered`` after one attempt if it is new; a copy already
    stored (a retried hand-over) is marked delivered unless it is final.
    """
    if not record_notice_into(connection, notice, delivered_at=at):
        connection.execute(
            _attempt_statement(notice.id, DeliveryStatus.DELIVERED, at, {"delivered_at": at})
        )


def mark_delivered(engine: Engine, notice_id: str, at: datetime) -> None:
    """Record an attempt at ``at`` (aware) that every channel took: ``delivered``.

    A notice already final is left as it is, so the first delivery time is
    kept (a re-delivery, at-least-once, does not move it). An unknown id
    changes nothing.
    """
    _record_attempt(
        engine,
        notice_id,
        status=DeliveryStatus.DELIVERED,
        at=at,
        extra={"delivered_at": at},
    )


def mark_retrying(engine: Engine, notice_id: str, at: datetime, error: str) -> None:
    """Record an attempt at ``at`` that failed for a reason that may pass: ``retrying``.

    ``error`` is kept as ``last_error``. A notice already final is left as it is.
    """
    _record_attempt(
        engine, notice_id, status=DeliveryStatus.RETRYING, at=at, extra={"last_error": error}
    )


def mark_failed(
    engine: Engine, notice_id: str, at: datetime, error: str, *, attempted: bool = True
) -> None:
    """Give the notice up at ``at`` with ``error`` as its ``last_error``: ``failed``.

    Args:
        engine: A read-model engine.
        notice_id: The notice.
        at: When (aware).
        error: Why, as it may be shown (no secrets, no personal data).
        attempted: Whether an attempt was made just now (counted in ``attempts``
            and ``last_attempt_at``), or the notice is given up without one
            (its delivery window had run out).
    """
    _record_attempt(
        engine,
        notice_id,
        status=DeliveryStatus.FAILED,
        at=at if attempted else None,
        extra={"last_error": error},
    )


def _record_attempt(
    engine: Engine,
    notice_id: str,
    *,
    status: DeliveryStatus,
    at: datetime | None,
    extra: dict[str, object],
) -> None:
    with engine.begin() as connection:
        connection.execute(_attempt_statement(notice_id, status, at, extra))


def _attempt_statement(
    notice_id: str, status: DeliveryStatus, at: datetime | None, extra: dict[str, object]
) -> Update:
    values: dict[str, object] = {"status": status.value, **extra}
    if at is not None:
        # Counted in SQL: two racing attempts of one notice both count.
        values |= {"attempts": _notices.c.attempts + 1, "last_attempt_at": at}
    return (
        update(_notices)
        .where(_notices.c.id == notice_id, _notices.c.status.not_in(_FINAL))
        .values(values)
    )


def delivery_of(engine: Engine, notice_id: str) -> NoticeDelivery | None:
    """The stored notice and its delivery state, or None if it is not stored."""
    with Session(engine) as session:
        record = session.get(NoticeRecord, notice_id)
    return None if record is None else _delivery(record)


def is_delivered(engine: Engine, notice_id: str) -> bool:
    """Return True if the notice is stored and marked delivered."""
    with Session(engine) as session:
        delivered_at = session.exec(
            select(NoticeRecord.delivered_at).where(NoticeRecord.id == notice_id)
        ).one_or_none()
    return delivered_at is not None


def list_notices(
    engine: Engine,
    *,
    unit: str | None = None,
    role: Role | None = None,
    case_id: str | None = None,
    status: DeliveryStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Notice], int]:
    """Return one page of notices matching every given filter, and the total count.

    The notices of :func:`list_deliveries`, without their delivery state.

    Raises:
        ValueError: ``limit`` or ``offset`` is negative.
    """
    deliveries, total = list_deliveries(
        engine, unit=unit, role=role, case_id=case_id, status=status, limit=limit, offset=offset
    )
    return [delivery.notice for delivery in deliveries], total


def list_deliveries(
    engine: Engine,
    *,
    unit: str | None = None,
    role: Role | None = None,
    case_id: str | None = None,
    status: DeliveryStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[NoticeDelivery], int]:
    """Return one page of notices with their delivery state, and the total count.

    Newest first (``at``, then ``id``, both descending) so pages are stable.

    Args:
        engine: A read-model engine.
        unit: Only notices addressed to this unit.
        role: Only notices addressed to this role (``unit`` or ``dispatcher``).
        case_id: Only notices about this case.
        status: Only notices whose delivery stands so (e.g. ``failed``).
        limit: Page size.
        offset: Notices to skip before the page.

    Raises:
        ValueError: ``limit`` or ``offset`` is negative.
    """
    if limit < 0 or offset < 0:
        raise ValueError(f"limit and offset must not be negative (got {limit}, {offset})")
    conditions: list[ColumnElement[bool]] = []
    if unit is not None:
        conditions.append(col(NoticeRecord.recipient_unit) == unit)
    if role is not None:
        conditions.append(col(NoticeRecord.recipient_role) == Role(role).value)
    if case_id is not None:
        conditions.append(col(NoticeRecord.case_id) == case_id)
    if status is not None:
        conditions.append(col(NoticeRecord.status) == DeliveryStatus(status).value)

    count = select(func.count()).select_from(NoticeRecord).where(*conditions)
    page = (
        select(NoticeRecord)
        .where(*conditions)
        .order_by(col(NoticeRecord.at).desc(), col(NoticeRecord.id).desc())
        .limit(limit)
        .offset(offset)
    )
    with Session(engine) as session:
        total = session.exec(count).one()
        records = session.exec(page).all()
    return [_delivery(record) for record in records], total


def _delivery(record: NoticeRecord) -> NoticeDelivery:
    return NoticeDelivery(
        notice=_notice(record),
        status=DeliveryStatus(record.status),
        attempts=record.attempts,
        last_error=record.last_error,
        last_attempt_at=record.last_attempt_at,
        delivered_at=record.delivered_at,
    )


def _notice(record: NoticeRecord) -> Notice:
    return Notice(
        id=record.id,
        case_id=record.case_id,
        kind=NoticeKind(record.kind),
        recipient_role=Role(record.recipient_role),
        recipient_unit=record.recipient_unit,
        message=record.message,
        at=record.at,
        data=record.data,
    )
