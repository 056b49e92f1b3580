"""Reading cases and timelines back from the read model.

Cases come back from the ``doc`` column as whole CaseViews, identical to what
the workflow projected; the flat columns are only used to filter and sort.
"""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Engine, and_, func, not_, or_
from sqlalchemy.dialects import postgresql
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from grievance_flow.store.models import CaseRecord, EventRecord
from grievance_flow.store.sealing import cipher_of, open_doc
from grievance_flow.store.serialization import case_from_dict
from grievance_flow.workflows.contracts import (
    Actor,
    CaseView,
    Event,
    EventType,
    Role,
    Stage,
    Status,
    TimelinePage,
)


def list_cases(
    engine: Engine,
    *,
    stage: Stage | None = None,
    unit: str | None = None,
    involving: str | None = None,
    category: str | None = None,
    overdue: bool | None = None,
    caller: str | None = None,
    now: datetime,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[CaseView], int]:
    """Return one page of cases matching every given filter, and the total match count.

    Newest first (``created_at``, then ``id``, both descending) so pages are stable.

    Args:
        engine: A read-model engine.
        stage: Only cases in this stage.
        unit: Only cases assigned to this unit (not those it was summoned to).
        involving: Only cases this unit is assigned to or summoned to (``co_units``).
        category: Only cases with this category code.
        caller: Only cases filed from this phone number (重复来电).
        overdue: True: open cases whose current stage's deadline is before ``now``;
            False: every other case (closed, on time, or without a clock);
            None: no filter.
        now: The instant "overdue" is judged at (aware); passed in so callers
            and tests decide the clock.
        limit: Page size.
        offset: Cases to skip before the page.

    Raises:
        ValueError: ``limit`` or ``offset`` is negative.
    """
    if limit < 0 or offset < 0:
        raise ValueError(f"limit and offset must not be negative (got {limit}, {offset})")
    conditions: list[ColumnElement[bool]] = []
    if stage is not None:
        conditions.append(col(CaseRecord.stage) == stage.value)
    if unit is not None:
        conditions.append(col(CaseRecord.unit) == unit)
    if involving is not None:
        conditions.append(
            or_(col(CaseRecord.unit) == involving, summoned(engine.dialect.name, involving))
        )
    if category is not None:
        conditions.append(col(CaseRecord.category) == category)
    if caller is not None:
        conditions.append(calling_from(engine, caller))
    if overdue is not None:
        late = _overdue_at(now)
        conditions.append(late if overdue else not_(late))

    count = select(func.count()).select_from(CaseRecord).where(*conditions)
    page = (
        select(CaseRecord.doc)
        .where(*conditions)
        .order_by(col(CaseRecord.created_at).desc(), col(CaseRecord.id).desc())
        .limit(limit)
        .offset(offset)
    )
    with Session(engine) as session:
        total = session.exec(count).one()
        docs = session.exec(page).all()
    cipher = cipher_of(engine)
    return [case_from_dict(open_doc(doc, cipher)) for doc in docs], total


def calling_from(engine: Engine, phone: str) -> ColumnElement[bool]:
    """Cases filed by this phone (重复来电): by its lookup hash, or in a plain read model
    by the phone as stored (the digits of what is asked, as filed)."""
    cipher = cipher_of(engine)
    if cipher is None:
        return col(CaseRecord.reporter_phone) == phone
    return col(CaseRecord.reporter_phone_hash) == (cipher.caller_hash(phone) or "")


def summoned(dialect: str, unit: str) -> ColumnElement[bool]:
    """Cases whose ``co_units`` (a JSON list) contains ``unit``: summoned by a whistle.

    The one JSON containment test of the read model, spelt per dialect: JSONB's
    ``@>`` on PostgreSQL (index-friendly), ``json_each`` on SQLite.

    Raises:
        ValueError: ``dialect`` is not one the read model runs on.
    """
    co_units = col(CaseRecord.co_units)
    if dialect == "postgresql":
        wanted = sa.cast(sa.literal(json.dumps([unit])), postgresql.JSONB)
        return co_units.op("@>")(wanted)
    if dialect == "sqlite":
        member = func.json_each(co_units).table_valued("value").alias("co_unit")
        return sa.exists().where(member.c.value == unit)
    raise ValueError(f"no JSON containment for database {dialect!r}")


def _overdue_at(now: datetime) -> ColumnElement[bool]:
    # Status is checked as well as due_at: the rule is "open and late", whatever
    # the projection does with due_at on close. The IS NOT NULL guard keeps the
    # expression TRUE or FALSE, never NULL, so NOT(...) selects exactly the rest.
    return and_(
        col(CaseRecord.status) == Status.OPEN.value,
        col(CaseRecord.due_at).is_not(None),
        col(CaseRecord.due_at) < now,
    )


def get_case(engine: Engine, case_id: str) -> CaseView | None:
    """Return the case as last projected, or None if the read model has no such case."""
    with Session(engine) as session:
        doc = session.exec(select(CaseRecord.doc).where(CaseRecord.id == case_id)).one_or_none()
    return case_from_dict(open_doc(doc, cipher_of(engine))) if doc is not None else None


def case_events(
    engine: Engine, case_id: str, *, after_seq: int = 0, limit: int | None = None
) -> list[Event]:
    """Return the case's timeline, oldest first (by ``seq``); empty for an unknown case.

    Args:
        engine: A read-model engine.
        case_id: The case.
        after_seq: Only events with a ``seq`` above this one.
        limit: At most this many events (None: all of them).
    """
    statement = (
        select(EventRecord)
        .where(EventRecord.case_id == case_id, col(EventRecord.seq) > after_seq)
        .order_by(col(EventRecord.seq))
    )
    if limit is not None:
        statement = statement.limit(limit)
    with Session(engine) as session:
        records = session.exec(statement).all()
    return [event_of(record) for record in records]


def event_of(record: EventRecord) -> Event:
    """The timeline event an ``events`` row holds."""
    return Event(
        seq=record.seq,
        type=EventType(record.type),
        at=record.at,
        actor=Actor(
            role=Role(record.actor_role),
            unit=record.actor_unit,
            holder=record.actor_holder,
            key_id=record.actor_key_id,
        ),
        stage=Stage(record.stage),
        data=record.data,
    )


def case_timeline(
    engine: Engine, case_id: str, *, after_seq: int, limit: int
) -> TimelinePage | None:
    """One page of the stored timeline, as the workflow's ``timeline`` query answers it.

    Returns None when the read model has no such case.
    """
    with Session(engine) as session:
        last_seq = session.exec(
            select(CaseRecord.last_seq).where(CaseRecord.id == case_id)
        ).one_or_none()
    if last_seq is None:
        return None
    events = case_events(engine, case_id, after_seq=after_seq, limit=limit)
    return TimelinePage(events=events, last_seq=last_seq)


def possible_duplicates(
    engine: Engine, *, grid: str, category: str, since: datetime, exclude: str, limit: int = 10
) -> list[str]:
    """Open cases in ``grid`` with the same suggested category filed since ``since``.

    Used at intake to list what a dispatcher may want to merge (并单), newest first.
    """
    statement = duplicates_statement(
        grid=grid, category=category, since=since, exclude=exclude, limit=limit
    )
    with Session(engine) as session:
        return list(session.exec(statement).all())


def duplicates_statement(
    *, grid: str, category: str, since: datetime, exclude: str, limit: int
) -> SelectOfScalar[str]:
    """The query of :func:`possible_duplicates`, answered by ``ix_cases_duplicates``."""
    return (
        select(CaseRecord.id)
        .where(
            CaseRecord.grid == grid,
            CaseRecord.suggested_category == category,
            CaseRecord.status == Status.OPEN.value,
            col(CaseRecord.created_at) >= since,
            CaseRecord.id != exclude,
        )
        # Both descending: one backward walk of the index, no sort.
        .order_by(col(CaseRecord.created_at).desc(), col(CaseRecord.id).desc())
        .limit(limit)
    )
