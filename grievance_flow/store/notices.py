"""Notices in the read model: recorded once, marked delivered, listed per recipient.

Written by the notice activity, which Temporal retries: the notice id (chosen
by the workflow, so stable across retries and replays) is the primary key, and
recording the same notice again is a no-op.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Engine, Table, func, update
from sqlmodel import Session, col, select

from grievance_flow.store.dialect import insert_for
from grievance_flow.store.models import NoticeRecord
from grievance_flow.store.serialization import to_jsonable
from grievance_flow.workflows.contracts import Notice, NoticeKind, Role

_notices: Table = NoticeRecord.__table__  # type: ignore[attr-defined]


def record_notice(engine: Engine, notice: Notice) -> bool:
    """Store ``notice`` unless a notice with its id is already stored.

    Returns:
        True if this call stored it, False if it was already there (the stored
        copy is left as it was).

    Raises:
        ValueError: ``notice.at`` is naive, or its data holds a naive datetime.
        TypeError: ``notice.data`` holds a value with no JSON form.
    """
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
    }
    # Insert-or-ignore in one statement: two attempts of the same activity (a
    # retry racing a slow first try) must not both insert or both fail.
    # RETURNING says whether this statement inserted; rowcount is not reliable
    # across drivers for INSERT ... ON CONFLICT DO NOTHING.
    insert = insert_for(engine.dialect.name, _notices).on_conflict_do_nothing()
    with engine.begin() as connection:
        inserted = connection.execute(insert.values(row).returning(_notices.c.id)).first()
    return inserted is not None


def mark_delivered(engine: Engine, notice_id: str, at: datetime) -> None:
    """Record that every channel has taken the notice, at ``at`` (aware).

    The first delivery time is kept: a later re-delivery (at-least-once) does
    not move it. An unknown id changes nothing.
    """
    statement = (
        update(_notices)
        .where(_notices.c.id == notice_id, _notices.c.delivered_at.is_(None))
        .values(delivered_at=at)
    )
    with engine.begin() as connection:
        connection.execute(statement)


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
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Notice], int]:
    """Return one page of notices matching every given filter, and the total count.

    Newest first (``at``, then ``id``, both descending) so pages are stable.

    Args:
        engine: A read-model engine.
        unit: Only notices addressed to this unit.
        role: Only notices addressed to this role (``unit`` or ``dispatcher``).
        case_id: Only notices about this case.
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
    return [_notice(record) for record in records], total


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
