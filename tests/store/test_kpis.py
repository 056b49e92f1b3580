"""KPI rows by hand-computed expectation, on SQLite and PostgreSQL (SPEC §11)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from grievance_flow.store.kpis import KpiGroup, KpiQuery, KpiRow, kpi_rows, local_days
from grievance_flow.store.projection import project_case
from grievance_flow.workflows.contracts import (
    Actor,
    Event,
    EventType,
    Outcome,
    Role,
    Stage,
)
from tests.store.factories import make_case

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 2, tzinfo=SHANGHAI)
"""Monday 2 March 2026, 00:00 in Beijing (1 March 16:00 UTC)."""
END = datetime(2026, 3, 5, tzinfo=SHANGHAI)
T0 = datetime(2026, 3, 2, 9, tzinfo=SHANGHAI)
MIDNIGHT = datetime(2026, 3, 3, tzinfo=SHANGHAI)
"""The local midnight between the first and the second day."""
TICK = timedelta(microseconds=1)

DISPATCHER = Actor(Role.DISPATCHER)
VERIFIER = Actor(Role.VERIFIER)
HOTLINE = Actor(Role.HOTLINE)
SYSTEM = Actor(Role.SYSTEM)
VENDING = "city.street-vending"
NOISE = "env.noise"


def unit(unit_id: str) -> Actor:
    """A unit's actor."""
    return Actor(Role.UNIT, unit_id)


def timeline(at: datetime, *steps: tuple[EventType, Actor, dict[str, Any]]) -> list[Event]:
    """Events one minute apart from ``at``, after a ``reported`` first one."""
    kinds = [(EventType.REPORTED, HOTLINE, {}), *steps]
    return [
        Event(
            seq=seq,
            type=kind,
            at=(at + timedelta(minutes=seq)).astimezone(UTC),
            actor=actor,
            stage=Stage.CLASSIFY,
            data=data,
        )
        for seq, (kind, actor, data) in enumerate(kinds, start=1)
    ]


def dispatched(to: str) -> tuple[EventType, Actor, dict[str, Any]]:
    return EventType.DISPATCHED, DISPATCHER, {"unit": to, "category": VENDING}


def returned(by: str) -> tuple[EventType, Actor, dict[str, Any]]:
    return EventType.RETURNED, unit(by), {"unit": by, "reason": "不属本单位", "returns": 1}


def rechecked(satisfaction: str, *, passed: bool = True) -> tuple[EventType, Actor, dict[str, Any]]:
    return EventType.RECHECKED, VERIFIER, {"passed": passed, "satisfaction": satisfaction}


def event(kind: EventType, actor: Actor = SYSTEM) -> tuple[EventType, Actor, dict[str, Any]]:
    return kind, actor, {}


@pytest.fixture
def scenario(engine: Engine) -> None:
    """Eight cases; six filed in the three local days ``[START, END)``.

    - A (grid-1, vending): accepted and completed on time, satisfied, resolved.
    - B (vending): returned by grid-1, dispatched to grid-2, accepted and
      completed late, overdue and escalated once, unsatisfied then reopened,
      basically satisfied at the second recheck, resolved.
    - C (grid-2, noise): on time, the citizen unreachable, closed explained.
    - D: withdrawn before dispatch, one microsecond before local midnight.
    - E: merged into A, filed at local midnight exactly.
    - F (grid-1, noise): accepted on time, still being handled.
    - G and H: filed one microsecond before START, and at END: outside.
    """
    cases = [
        (
            make_case("A", stage=Stage.CLOSED, unit="grid-1", category=VENDING, created_at=T0,
                      returns=0, accepted_on_time=True, completed_on_time=True,
                      outcome=Outcome.RESOLVED),
            [dispatched("grid-1"), event(EventType.ACCEPTED, unit("grid-1")),
             event(EventType.COMPLETED, unit("grid-1")), rechecked("satisfied"),
             event(EventType.CLOSED)],
        ),
        (
            make_case("B", stage=Stage.CLOSED, unit="grid-2", category=VENDING,
                      created_at=T0 + timedelta(hours=1), returns=1, reopens=1, escalations=1,
                      accepted_on_time=False, completed_on_time=False, overdue_stages=["accept"],
                      outcome=Outcome.RESOLVED),
            [dispatched("grid-1"), returned("grid-1"), dispatched("grid-2"),
             event(EventType.SLA_WARNING), event(EventType.SLA_OVERDUE),
             event(EventType.ESCALATED), event(EventType.ACCEPTED, unit("grid-2")),
             event(EventType.COMPLETED, unit("grid-2")), rechecked("unsatisfied", passed=False),
             event(EventType.REOPENED), event(EventType.COMPLETED, unit("grid-2")),
             rechecked("basically_satisfied"), event(EventType.CLOSED)],
        ),
        (
            make_case("C", stage=Stage.CLOSED, unit="grid-2", category=NOISE,
                      created_at=MIDNIGHT + timedelta(hours=10), returns=0,
                      accepted_on_time=True, completed_on_time=True, outcome=Outcome.EXPLAINED),
            [dispatched("grid-2"), event(EventType.ACCEPTED, unit("grid-2")),
             event(EventType.COMPLETED, unit("grid-2")), rechecked("unreachable"),
             event(EventType.CLOSED)],
        ),
        (
            make_case("D", stage=Stage.CLOSED, unit=None, category=None,
                      created_at=MIDNIGHT - TICK, returns=0, outcome=Outcome.WITHDRAWN),
            [event(EventType.WITHDRAWN, HOTLINE), event(EventType.CLOSED)],
        ),
        (
            make_case("E", stage=Stage.CLOSED, unit=None, category=None, created_at=MIDNIGHT,
                      returns=0, outcome=Outcome.MERGED),
            [event(EventType.MERGED, DISPATCHER), event(EventType.CLOSED)],
        ),
        (
            make_case("F", stage=Stage.HANDLE, unit="grid-1", category=NOISE,
                      created_at=datetime(2026, 3, 4, 23, 59, tzinfo=SHANGHAI), returns=0,
                      accepted_on_time=True),
            [dispatched("grid-1"), event(EventType.ACCEPTED, unit("grid-1"))],
        ),
        (
            make_case("G", stage=Stage.HANDLE, unit="grid-1", category=NOISE,
                      created_at=START - TICK, returns=0, accepted_on_time=True),
            [dispatched("grid-1"), event(EventType.ACCEPTED, unit("grid-1"))],
        ),
        (
            make_case("H", stage=Stage.CLOSED, unit="grid-2", category=NOISE, created_at=END,
                      returns=1, outcome=Outcome.RESOLVED),
            [dispatched("grid-1"), returned("grid-1"), dispatched("grid-2")],
        ),
    ]  # fmt: skip
    for case, steps in cases:
        project_case(engine, case, timeline(case.created_at, *steps))


def query(group_by: KpiGroup, **filters: str) -> KpiQuery:
    return KpiQuery(start=START, end=END, group_by=group_by, tz=SHANGHAI, **filters)


NULL_UNIT = KpiRow(key=None, cases=2)
"""D and E: never dispatched, withdrawn and merged (neither counts as closed)."""


@pytest.mark.usefixtures("scenario")
def test_by_unit_counts_each_case_for_its_holder_and_returns_for_the_returner(
    engine: Engine,
) -> None:
    rows = kpi_rows(engine, query(KpiGroup.UNIT))
    assert rows == [
        # A and F; dispatched A, B, F and returned B.
        KpiRow(key="grid-1", cases=2, accepted=2, accepted_on_time=2, completed=1,
               completed_on_time=1, dispatched=3, returned=1, rechecked=1, reopened=0,
               reached=1, satisfied=1, closed=1, resolved=1, overdue=0, escalations=0),
        # B and C.
        KpiRow(key="grid-2", cases=2, accepted=2, accepted_on_time=1, completed=2,
               completed_on_time=1, dispatched=2, returned=0, rechecked=2, reopened=1,
               reached=1, satisfied=1, closed=2, resolved=1, overdue=1, escalations=1),
        NULL_UNIT,
    ]  # fmt: skip
    grid_1, grid_2, nobody = rows
    assert (grid_1.accepted_on_time_rate, grid_2.accepted_on_time_rate) == (1.0, 0.5)
    assert (grid_1.completed_on_time_rate, grid_2.completed_on_time_rate) == (1.0, 0.5)
    assert grid_1.return_rate == pytest.approx(1 / 3)
    assert grid_2.return_rate == 0.0
    assert (grid_1.reopen_rate, grid_2.reopen_rate) == (0.0, 0.5)
    # B's last recheck counts (basically satisfied), not its first; C was unreachable.
    assert (grid_1.satisfaction_rate, grid_2.satisfaction_rate) == (1.0, 1.0)
    assert (grid_1.resolution_rate, grid_2.resolution_rate) == (1.0, 0.5)
    assert asdict(nobody) == asdict(NULL_UNIT)
    assert [
        nobody.accepted_on_time_rate,
        nobody.completed_on_time_rate,
        nobody.return_rate,
        nobody.reopen_rate,
        nobody.satisfaction_rate,
        nobody.resolution_rate,
    ] == [None] * 6


@pytest.mark.usefixtures("scenario")
def test_by_category_counts_cases_whole(engine: Engine) -> None:
    assert kpi_rows(engine, query(KpiGroup.CATEGORY)) == [
        KpiRow(key=VENDING, cases=2, accepted=2, accepted_on_time=1, completed=2,
               completed_on_time=1, dispatched=2, returned=1, rechecked=2, reopened=1,
               reached=2, satisfied=2, closed=2, resolved=2, overdue=1, escalations=1),
        KpiRow(key=NOISE, cases=2, accepted=2, accepted_on_time=2, completed=1,
               completed_on_time=1, dispatched=2, returned=0, rechecked=1, reopened=0,
               reached=0, satisfied=0, closed=1, resolved=0, overdue=0, escalations=0),
        NULL_UNIT,
    ]  # fmt: skip
    noise = kpi_rows(engine, query(KpiGroup.CATEGORY))[1]
    assert noise.satisfaction_rate is None  # nobody reached: null, not 0
    assert noise.resolution_rate == 0.0


@pytest.mark.usefixtures("scenario")
def test_by_grid(engine: Engine) -> None:
    (row,) = kpi_rows(engine, query(KpiGroup.GRID))
    assert (row.key, row.cases, row.dispatched, row.returned) == ("grid-1", 6, 4, 1)


@pytest.mark.usefixtures("scenario")
def test_by_day_splits_at_local_midnight_and_lists_every_day(engine: Engine) -> None:
    rows = kpi_rows(engine, query(KpiGroup.DAY))
    assert [(row.key, row.cases) for row in rows] == [
        ("2026-03-02", 3),  # A, B and D (a microsecond before midnight)
        ("2026-03-03", 2),  # E (at midnight) and C
        ("2026-03-04", 1),  # F
    ]
    assert rows[0].closed == 2 and rows[0].resolved == 2  # D withdrawn: not counted


@pytest.mark.usefixtures("scenario")
def test_a_day_with_no_case_has_a_row(engine: Engine) -> None:
    later = KpiQuery(start=END, end=END + timedelta(days=2), group_by=KpiGroup.DAY, tz=SHANGHAI)
    assert kpi_rows(engine, later) == [
        KpiRow(key="2026-03-05", cases=1, dispatched=1, returned=1, closed=1, resolved=1),
        KpiRow(key="2026-03-06"),
    ]


@pytest.mark.usefixtures("scenario")
def test_a_unit_filter_keeps_its_cases_and_its_own_returns(engine: Engine) -> None:
    (grid_1,) = kpi_rows(engine, query(KpiGroup.UNIT, unit="grid-1"))
    assert (grid_1.key, grid_1.cases, grid_1.dispatched, grid_1.returned) == ("grid-1", 2, 3, 1)
    rows = kpi_rows(engine, query(KpiGroup.CATEGORY, unit="grid-2"))
    assert [(r.key, r.cases, r.dispatched, r.returned) for r in rows] == [
        (VENDING, 1, 1, 1),  # B was returned once (by grid-1) before it came here
        (NOISE, 1, 1, 0),
    ]


@pytest.mark.usefixtures("scenario")
def test_category_filter(engine: Engine) -> None:
    rows = kpi_rows(engine, query(KpiGroup.UNIT, category=VENDING))
    assert [(r.key, r.cases, r.dispatched, r.returned) for r in rows] == [
        ("grid-1", 1, 2, 1),
        ("grid-2", 1, 1, 0),
    ]


def test_empty_read_model_has_no_rows(engine: Engine) -> None:
    assert kpi_rows(engine, query(KpiGroup.UNIT)) == []


def test_a_range_must_not_be_empty() -> None:
    with pytest.raises(ValueError, match="the range is empty"):
        KpiQuery(start=END, end=END, group_by=KpiGroup.UNIT, tz=SHANGHAI)


def test_day_grouping_is_bounded() -> None:
    with pytest.raises(ValueError, match="at most 400 days"):
        KpiQuery(start=START, end=START + timedelta(days=401), group_by=KpiGroup.DAY, tz=SHANGHAI)


def test_local_days_start_at_the_range_start() -> None:
    noon = START + timedelta(hours=12)
    days = local_days(KpiQuery(start=noon, end=END, group_by=KpiGroup.DAY, tz=SHANGHAI))
    assert [(d.isoformat(), begins) for d, begins in days] == [
        ("2026-03-02", noon),
        ("2026-03-03", MIDNIGHT),
        ("2026-03-04", datetime(2026, 3, 4, tzinfo=SHANGHAI)),
    ]
