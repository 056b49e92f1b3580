"""The overview's counts, lights and escalations, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine

from grievance_flow.store.overview import Escalation, LitCase, read_overview
from grievance_flow.store.projection import project_case
from grievance_flow.workflows.contracts import Actor, CaseView, Event, EventType, Role, Stage
from tests.store.factories import T0, make_case

NOW = T0 + timedelta(hours=3)
"""Three hours after the first case was filed."""


def _hours(n: float) -> timedelta:
    return timedelta(hours=n)


def _escalated(seq: int, at: datetime, unit: str, to: str) -> Event:
    return Event(
        seq=seq,
        type=EventType.ESCALATED,
        at=at,
        actor=Actor(Role.SYSTEM),
        stage=Stage.ACCEPT,
        data={"clock": "accept", "from": unit, "to": to, "tier": "C"},
    )


@pytest.fixture
def cases(engine: Engine) -> dict[str, CaseView]:
    """One case per light and stage; warning at 80 % of each clock (factories' ``deadline``)."""
    made = {
        # red: due T0+15 min, the oldest deadline
        "late-classify": make_case("late-classify", stage=Stage.CLASSIFY, unit=None,
                                   category=None, due_in_hours=0.25),
        # red: due T0+1 h
        "late-handle": make_case("late-handle", stage=Stage.HANDLE, unit="grid-1",
                                 due_in_hours=1),
        # red: due T0+1.5 h (filed T0+1 h)
        "late-accept": make_case("late-accept", stage=Stage.ACCEPT, unit="grid-2",
                                 created_at=T0 + _hours(1), due_in_hours=0.5),
        # yellow: warns T0+2.8 h, due T0+3.5 h
        "warned": make_case("warned", stage=Stage.HANDLE, unit="grid-1", due_in_hours=3.5),
        # yellow, later deadline: warns T0+3 h (now), due T0+3.75 h
        "warned-later": make_case("warned-later", stage=Stage.RECHECK, unit="grid-2",
                                  due_in_hours=3.75),
        # on track
        "fine": make_case("fine", stage=Stage.RECHECK, unit="grid-1", due_in_hours=100),
        # no clock yet
        "new": make_case("new", stage=Stage.REPORT, unit=None, category=None,
                         due_in_hours=None),
        "done": make_case("done", stage=Stage.CLOSED, unit="grid-1"),
    }  # fmt: skip
    for case in made.values():
        project_case(engine, case, [])
    return made


def _ids(items: list[LitCase]) -> list[str]:
    return [item.id.removeprefix("grievance-") for item in items]


def test_open_cases_by_stage_list_every_stage(engine: Engine, cases: dict[str, CaseView]) -> None:
    overview = read_overview(engine, now=NOW)
    assert overview.open_by_stage == {
        Stage.REPORT: 1,
        Stage.CLASSIFY: 1,
        Stage.ACCEPT: 1,
        Stage.HANDLE: 2,
        Stage.RECHECK: 2,
    }
    assert overview.closed == 1
    empty = read_overview(engine, now=NOW, unit="nowhere")
    assert set(empty.open_by_stage.values()) == {0} and len(empty.open_by_stage) == 5


def test_red_and_yellow_lights_come_oldest_deadline_first(
    engine: Engine, cases: dict[str, CaseView]
) -> None:
    overview = read_overview(engine, now=NOW)
    assert (overview.red.total, _ids(overview.red.items)) == (
        3,
        ["late-classify", "late-handle", "late-accept"],
    )
    assert (overview.yellow.total, _ids(overview.yellow.items)) == (2, ["warned", "warned-later"])
    first = overview.red.items[0]
    clock = cases["late-classify"].deadlines["classify"]
    assert (first.stage, first.unit, first.category) == (Stage.CLASSIFY, None, None)
    assert (first.due_at, first.warn_at) == (clock.due_at, clock.warn_at)


def test_lights_are_judged_at_now_and_limited_with_their_totals(
    engine: Engine, cases: dict[str, CaseView]
) -> None:
    limited = read_overview(engine, now=NOW, limit=1)
    assert (limited.red.total, _ids(limited.red.items)) == (3, ["late-classify"])
    assert (limited.yellow.total, len(limited.yellow.items)) == (2, 1)
    # At its deadline a case is red, no longer yellow (as sla.state says).
    due = cases["warned"].deadlines["handle"].due_at
    at_due = read_overview(engine, now=due)
    assert "warned" in _ids(at_due.red.items) and "warned" not in _ids(at_due.yellow.items)
    before = read_overview(engine, now=T0)
    assert (before.red.total, before.yellow.total) == (0, 0)


def test_a_unit_sees_only_the_cases_it_holds(engine: Engine, cases: dict[str, CaseView]) -> None:
    overview = read_overview(engine, now=NOW, unit="grid-1")
    assert overview.open_by_stage[Stage.HANDLE] == 2
    assert overview.open_by_stage[Stage.CLASSIFY] == 0
    assert _ids(overview.red.items) == ["late-handle"]
    assert _ids(overview.yellow.items) == ["warned"]
    assert overview.closed == 1


def test_latest_escalations_newest_first(engine: Engine, cases: dict[str, CaseView]) -> None:
    handle, accept = cases["late-handle"], cases["late-accept"]
    project_case(engine, handle, [_escalated(6, T0 + _hours(1.5), "grid-1", "comm-1")])
    project_case(
        engine,
        accept,
        [
            _escalated(6, T0 + _hours(2), "grid-2", "comm-1"),
            Event(7, EventType.SUPERVISED, T0 + _hours(2), Actor(Role.SYSTEM), Stage.ACCEPT, {}),
        ],
    )
    overview = read_overview(engine, now=NOW)
    assert overview.escalations == [
        Escalation(accept.id, T0 + _hours(2), Stage.ACCEPT, "grid-2", "comm-1", "C"),
        Escalation(handle.id, T0 + _hours(1.5), Stage.ACCEPT, "grid-1", "comm-1", "C"),
    ]
    assert [e.case_id for e in read_overview(engine, now=NOW, escalations=1).escalations] == [
        accept.id
    ]
    assert [e.case_id for e in read_overview(engine, now=NOW, unit="grid-1").escalations] == [
        handle.id
    ]


def test_naive_now_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="aware"):
        read_overview(engine, now=NOW.replace(tzinfo=None))
