"""Open311's read-model queries, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import Engine

from grievance_flow.store.open311 import list_requests, list_updates, service_code_of
from grievance_flow.store.projection import project_case
from grievance_flow.workflows.contracts import (
    Actor,
    Event,
    EventType,
    Outcome,
    Role,
    Stage,
    Status,
)
from tests.store.factories import T0, make_case, make_events


def test_the_service_code_is_the_category_else_the_hint_else_the_suggestion(
    engine: Engine,
) -> None:
    dispatched = make_case("o-1", category="city.garbage")
    hinted = make_case(
        "o-2",
        stage=Stage.CLASSIFY,
        category=None,
        category_hint="water.supply",
        suggested_category="city.garbage",
    )
    guessed = make_case("o-3", stage=Stage.CLASSIFY, category=None)
    guessed = replace(guessed, suggested_category="police.noise")
    for case in (dispatched, hinted, guessed):
        project_case(engine, case, [])
    assert [service_code_of(c) for c in (dispatched, hinted, guessed)] == [
        "city.garbage",
        "water.supply",
        "police.noise",
    ]

    def codes(*wanted: str) -> set[str]:
        found, _ = list_requests(engine, service_codes=list(wanted), limit=10)
        return {case.id for case in found}

    assert codes("water.supply") == {hinted.id}
    assert codes("city.garbage") == {dispatched.id}  # not the hinted one's suggestion
    assert codes("police.noise", "water.supply") == {hinted.id, guessed.id}


def test_requests_by_ids_window_status_and_page(engine: Engine) -> None:
    cases = [
        make_case(f"w-{n}", created_at=T0 + timedelta(days=n), stage=stage)
        for n, stage in enumerate([Stage.HANDLE, Stage.CLOSED, Stage.ACCEPT, Stage.CLOSED])
    ]
    for case in cases:
        project_case(engine, case, [])
    ids = [case.id for case in cases]

    found, total = list_requests(engine, ids=[ids[0], ids[2], "nope"], limit=10)
    assert ([c.id for c in found], total) == ([ids[2], ids[0]], 2)  # newest first
    found, total = list_requests(
        engine, start=T0 + timedelta(days=1), end=T0 + timedelta(days=2), limit=10
    )
    assert ([c.id for c in found], total) == ([ids[2], ids[1]], 2)  # both ends included
    found, _ = list_requests(engine, status=Status.CLOSED, limit=10)
    assert [c.id for c in found] == [ids[3], ids[1]]
    page, total = list_requests(engine, limit=2, offset=2)
    assert ([c.id for c in page], total) == ([ids[1], ids[0]], 4)


def test_updates_are_public_events_in_the_window_in_order(engine: Engine) -> None:
    case = make_case("u-1", stage=Stage.CLOSED, last_seq=7)
    events = make_events(5)
    events.append(
        Event(
            seq=6,
            type=EventType.SUMMONS_CLOSED,
            at=T0 + timedelta(hours=2),
            actor=Actor(Role.SYSTEM),
            stage=Stage.HANDLE,
        )
    )
    events.append(
        Event(
            seq=7,
            type=EventType.CLOSED,
            at=T0 + timedelta(hours=3),
            actor=Actor(Role.VERIFIER),
            stage=Stage.CLOSED,
            data={"outcome": "resolved"},
        )
    )
    project_case(engine, case, events)
    updates, total = list_updates(engine, start=T0, end=T0 + timedelta(hours=4), limit=100)
    assert [u.event.seq for u in updates] == [1, 2, 3, 4, 5, 7]  # summons_closed stays inside
    assert total == 6
    assert updates[-1].outcome is Outcome.RESOLVED
    assert updates[0].reporter == case.reporter
    later, _ = list_updates(
        engine, start=T0 + timedelta(minutes=15), end=T0 + timedelta(minutes=40), limit=100
    )
    assert [u.event.seq for u in later] == [3, 4, 5]
    paged, _ = list_updates(engine, start=T0, end=T0 + timedelta(hours=4), limit=2, offset=4)
    assert [u.event.seq for u in paged] == [5, 7]
