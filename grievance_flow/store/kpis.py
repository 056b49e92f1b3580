"""KPIs (SPEC §11) computed in SQL on the read model, on SQLite and PostgreSQL alike.

Every rate is a numerator over a denominator, both counted in the database
over the cases filed in ``[start, end)``; :class:`KpiRow` keeps both, so a
report can show "17 / 20" beside 0.85 and a zero denominator stays visible
as ``None`` rather than a 0 that would read as "all late".

The case facts come from the ``cases`` row (``accepted_on_time``,
``completed_on_time``, ``returns``, ``reopens``, ``outcome``, ``escalations``)
and from the timeline (``events``): whether a case was ever dispatched,
rechecked or overdue, and its last recheck's satisfaction.

A case belongs to the unit that holds it (at close: the unit that handled
it). 退单率 is the one exception when grouping by unit: a return is counted
against the unit that returned the case and over the cases dispatched to that
unit, read from the ``dispatched``/``arbitrated``/``returned`` events, since
the case itself has moved on to another unit by then.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Engine, and_, case, exists, func, select
from sqlmodel import col

from grievance_flow.store.models import CaseRecord, EventRecord
from grievance_flow.workflows.contracts import EventType, Outcome, Satisfaction, Status

MAX_DAYS_BY_DAY = 400
"""Longest range ``group_by=day`` accepts: one row per day, every day listed."""


class KpiGroup(StrEnum):
    """What a KPI row is per."""

    UNIT = "unit"
    CATEGORY = "category"
    GRID = "grid"
    DAY = "day"


@dataclass(frozen=True)
class KpiRow:
    """One group's counts; the rates are properties over them (SPEC §11).

    Attributes:
        key: The unit id, category code, grid id or local day (``YYYY-MM-DD``);
            None for cases without one (not yet dispatched, no category).
        cases: Cases filed.
        accepted / accepted_on_time: Cases signed for, and signed for in time (及时签收).
        completed / completed_on_time: Cases completed, and before the (extended)
            handle deadline (按时办结).
        dispatched / returned: Cases dispatched, and returned at least once (退单).
        rechecked / reopened: Cases rechecked, and reopened at least once (重办).
        reached / satisfied: Cases whose last recheck reached the citizen (not
            ``unreachable``), and of those satisfied or basically satisfied.
        closed / resolved: Cases closed (withdrawn and merged excluded), and of
            those closed ``resolved``.
        overdue: Cases with at least one overdue stage.
        escalations: Escalations (提级), summed over the cases.
    """

    key: str | None
    cases: int = 0
    accepted: int = 0
    accepted_on_time: int = 0
    completed: int = 0
    completed_on_time: int = 0
    dispatched: int = 0
    returned: int = 0
    rechecked: int = 0
    reopened: int = 0
    reached: int = 0
    satisfied: int = 0
    closed: int = 0
    resolved: int = 0
    overdue: int = 0
    escalations: int = 0

    @property
    def accepted_on_time_rate(self) -> float | None:
        """及时签收率: accepted on time / accepted."""
        return ratio(self.accepted_on_time, self.accepted)

    @property
    def completed_on_time_rate(self) -> float | None:
        """按时办结率: completed on time / completed."""
        return ratio(self.completed_on_time, self.completed)

    @property
    def return_rate(self) -> float | None:
        """退单率: cases returned at least once / cases dispatched."""
        return ratio(self.returned, self.dispatched)

    @property
    def reopen_rate(self) -> float | None:
        """重办率: cases reopened at least once / cases rechecked."""
        return ratio(self.reopened, self.rechecked)

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率: last recheck satisfied or basically satisfied / last recheck reached."""
        return ratio(self.satisfied, self.reached)

    @property
    def resolution_rate(self) -> float | None:
        """解决率: closed resolved / closed (withdrawn and merged excluded)."""
        return ratio(self.resolved, self.closed)


COUNTS = tuple(name for name in KpiRow.__dataclass_fields__ if name != "key")
"""KpiRow's counted fields, in order."""


def ratio(numerator: int, denominator: int) -> float | None:
    """``numerator / denominator``, or None when there is nothing to divide by."""
    return None if denominator == 0 else numerator / denominator


@dataclass(frozen=True)
class KpiQuery:
    """Which cases, and per what.

    Attributes:
        start, end: Cases filed in ``[start, end)`` (aware instants).
        group_by: The grouping.
        tz: The catalogue's time zone: ``day`` groups are its local days.
        unit: Only cases this unit holds (with ``group_by=unit``: its row only).
        category: Only cases of this category.
    """

    start: datetime
    end: datetime
    group_by: KpiGroup
    tz: ZoneInfo
    unit: str | None = None
    category: str | None = None

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("start and end must be aware datetimes")
        if self.end <= self.start:
            raise ValueError(
                f"the range is empty: end {self.end.isoformat()} is not after "
                f"start {self.start.isoformat()}"
            )
        if self.group_by is KpiGroup.DAY and len(local_days(self)) > MAX_DAYS_BY_DAY:
            raise ValueError(f"group_by=day covers at most {MAX_DAYS_BY_DAY} days")


def local_days(query: KpiQuery) -> list[tuple[date, datetime]]:
    """Each local day the range touches, with the instant it starts (the first: ``start``)."""
    first = query.start.astimezone(query.tz).date()
    days: list[tuple[date, datetime]] = []
    day = first
    while True:
        begins = max(query.start, datetime.combine(day, time(), tzinfo=query.tz))
        if begins >= query.end:
            return days
        days.append((day, begins))
        day += timedelta(days=1)


def kpi_rows(engine: Engine, query: KpiQuery) -> list[KpiRow]:
    """The KPI rows of ``query``, ordered by key (None last).

    With ``group_by=day`` every local day of the range has a row, empty ones
    included, so a chart's axis has no gaps.
    """
    key = _group_key(query)
    with engine.connect() as connection:
        rows = {
            found["key"]: KpiRow(key=found["key"], **{name: int(found[name]) for name in COUNTS})
            for found in connection.execute(_case_counts(query, key)).mappings()
        }
        if query.group_by is KpiGroup.UNIT:
            rows = _with_returns_by_unit(connection, query, rows)
    if query.group_by is KpiGroup.DAY:
        for day, _ in local_days(query):
            rows.setdefault(day.isoformat(), KpiRow(key=day.isoformat()))
    return sorted(rows.values(), key=lambda row: (row.key is None, row.key or ""))


def _cases_in(query: KpiQuery, *, by_holder: bool = True) -> list[ColumnElement[bool]]:
    conditions = [
        col(CaseRecord.created_at) >= query.start,
        col(CaseRecord.created_at) < query.end,
    ]
    if query.unit is not None and by_holder:
        conditions.append(col(CaseRecord.unit) == query.unit)
    if query.category is not None:
        conditions.append(col(CaseRecord.category) == query.category)
    return conditions


def _group_key(query: KpiQuery) -> Any:  # a column or a CASE over local days
    if query.group_by is KpiGroup.UNIT:
        return col(CaseRecord.unit)
    if query.group_by is KpiGroup.CATEGORY:
        return col(CaseRecord.category)
    if query.group_by is KpiGroup.GRID:
        return col(CaseRecord.grid)
    # A local day, from the boundaries computed here in the catalogue's zone:
    # portable (no time-zone functions in SQL) and right across DST changes.
    days = local_days(query)
    whens = [
        (col(CaseRecord.created_at) < begins, previous.isoformat())
        for (previous, _), (_, begins) in pairwise(days)
    ]
    last = days[-1][0].isoformat()
    return case(*whens, else_=last) if whens else sa.literal(last)


def _has_event(*types: EventType) -> ColumnElement[bool]:
    return exists().where(
        col(EventRecord.case_id) == col(CaseRecord.id),
        col(EventRecord.type).in_([t.value for t in types]),
    )


def _last_satisfaction() -> sa.ScalarSelect[str | None]:
    return (
        select(col(EventRecord.data)["satisfaction"].as_string())
        .where(
            col(EventRecord.case_id) == col(CaseRecord.id),
            col(EventRecord.type) == EventType.RECHECKED.value,
        )
        .order_by(col(EventRecord.seq).desc())
        .limit(1)
        .scalar_subquery()
    )


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _case_counts(query: KpiQuery, key: Any) -> sa.Select[Any]:
    satisfaction = _last_satisfaction()
    reached = [s.value for s in Satisfaction if s is not Satisfaction.UNREACHABLE]
    pleased = [Satisfaction.SATISFIED.value, Satisfaction.BASICALLY_SATISFIED.value]
    counted_closed = and_(
        col(CaseRecord.status) == Status.CLOSED.value,
        col(CaseRecord.outcome).not_in([Outcome.WITHDRAWN.value, Outcome.MERGED.value]),
    )
    grouped = key.label("key")
    return (
        select(
            grouped,
            func.count().label("cases"),
            _count(col(CaseRecord.accepted_on_time).is_not(None)).label("accepted"),
            _count(col(CaseRecord.accepted_on_time).is_(True)).label("accepted_on_time"),
            _count(col(CaseRecord.completed_on_time).is_not(None)).label("completed"),
            _count(col(CaseRecord.completed_on_time).is_(True)).label("completed_on_time"),
            _count(_has_event(EventType.DISPATCHED, EventType.ARBITRATED)).label("dispatched"),
            _count(col(CaseRecord.returns) > 0).label("returned"),
            _count(_has_event(EventType.RECHECKED)).label("rechecked"),
            _count(col(CaseRecord.reopens) > 0).label("reopened"),
            _count(satisfaction.in_(reached)).label("reached"),
            _count(satisfaction.in_(pleased)).label("satisfied"),
            _count(counted_closed).label("closed"),
            _count(and_(counted_closed, col(CaseRecord.outcome) == Outcome.RESOLVED.value)).label(
                "resolved"
            ),
            _count(_has_event(EventType.SLA_OVERDUE)).label("overdue"),
            func.coalesce(func.sum(col(CaseRecord.escalations)), 0).label("escalations"),
        )
        .where(*_cases_in(query))
        .group_by(grouped)
    )


def _with_returns_by_unit(
    connection: sa.Connection, query: KpiQuery, rows: dict[str | None, KpiRow]
) -> dict[str | None, KpiRow]:
    """Replace each unit's dispatched/returned with the counts of its own assignments.

    A unit that returned every case it was sent gets a row too (``cases`` 0),
    so the unit with the worst 退单率 is not the one missing from the table.
    """
    unit = col(EventRecord.data)["unit"].as_string()
    assigned = col(EventRecord.type).in_([EventType.DISPATCHED.value, EventType.ARBITRATED.value])
    returned = col(EventRecord.type) == EventType.RETURNED.value
    by_unit = (
        select(
            unit.label("unit"),
            func.count(sa.distinct(case((assigned, col(EventRecord.case_id))))).label("dispatched"),
            func.count(sa.distinct(case((returned, col(EventRecord.case_id))))).label("returned"),
        )
        .select_from(EventRecord)
        .join(CaseRecord, col(CaseRecord.id) == col(EventRecord.case_id))
        # The unit comes from the event here, not from the case's present holder.
        .where(*_cases_in(query, by_holder=False), sa.or_(assigned, returned), unit.is_not(None))
        .group_by(unit)
    )
    if query.unit is not None:
        by_unit = by_unit.where(unit == query.unit)
    updated = {k: replace(row, dispatched=0, returned=0) for k, row in rows.items()}
    for found in connection.execute(by_unit).mappings():
        key = found["unit"]
        updated[key] = replace(
            updated.get(key, KpiRow(key=key)),
            dispatched=found["dispatched"],
            returned=found["returned"],
        )
    return updated
