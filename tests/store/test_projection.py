"""Projection: retried, late and concurrent writes leave the newest state."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from grievance_flow.store.models import CaseRecord, EventRecord
from grievance_flow.store.projection import project_case
from grievance_flow.store.queries import case_events, get_case
from grievance_flow.workflows.contracts import Stage
from tests.store.factories import T0, make_case, make_events


def _count_events(engine: Engine, case_id: str) -> int:
    with Session(engine) as session:
        statement = select(func.count()).where(EventRecord.case_id == case_id)
        return session.exec(statement).one()


def _record(engine: Engine, case_id: str) -> CaseRecord:
    with Session(engine) as session:
        record = session.get(CaseRecord, case_id)
    assert record is not None
    return record


def test_projecting_the_same_thing_twice_stores_it_once(engine: Engine) -> None:
    case = make_case(last_seq=5)
    events = make_events(5)

    project_case(engine, case, events)
    project_case(engine, case, events)  # the activity retried after a timeout

    assert _count_events(engine, case.id) == 5
    assert get_case(engine, case.id) == case
    assert case_events(engine, case.id) == events


def test_an_older_projection_never_overwrites_a_newer_one(engine: Engine) -> None:
    older = make_case(stage=Stage.ACCEPT, last_seq=3)
    newer = make_case(stage=Stage.HANDLE, last_seq=5, returns=0)

    project_case(engine, newer, make_events(2, first_seq=4))
    project_case(engine, older, make_events(3))  # a retry that arrived late

    assert get_case(engine, older.id) == newer
    assert _record(engine, older.id).stage == "handle"
    # Its events still count: the timeline has no gap.
    assert [e.seq for e in case_events(engine, older.id)] == [1, 2, 3, 4, 5]


def test_events_already_stored_keep_their_first_content(engine: Engine) -> None:
    # The same projection retried (same version) changes nothing.
    case = make_case(last_seq=1)
    [first] = make_events(1)
    project_case(engine, case, [first], version=7)
    project_case(engine, case, [replace(first, data={"note": "changed"})], version=7)

    assert case_events(engine, case.id) == [first]


def test_a_rerun_workflow_task_replaces_what_the_lost_run_projected(engine: Engine) -> None:
    # The lost run (version 7) projected seq 1-2; its re-run (version 10) has
    # other times for seq 1 and never got to seq 2. The history is the truth.
    lost = make_case(last_seq=2)
    first, second = make_events(2)
    project_case(engine, lost, [first, second], version=7)
    rerun = make_case(last_seq=1, created_at=T0 + timedelta(seconds=3))
    moved = replace(first, at=first.at + timedelta(seconds=3))
    project_case(engine, rerun, [moved], version=10)

    assert case_events(engine, lost.id) == [moved]
    assert get_case(engine, lost.id) == rerun
    # A late attempt of the lost run changes nothing any more.
    project_case(engine, lost, [first, second], version=7)
    assert case_events(engine, lost.id) == [moved]
    assert get_case(engine, lost.id) == rerun


def test_the_current_stage_clock_is_what_overdue_uses(engine: Engine) -> None:
    handling = make_case("a", stage=Stage.HANDLE, due_in_hours=4)
    closed = make_case("b", stage=Stage.CLOSED)
    no_clock = make_case("c", stage=Stage.REPORT, due_in_hours=None)
    for case in (handling, closed, no_clock):
        project_case(engine, case, [])

    record = _record(engine, handling.id)
    assert (record.sla_stage, record.due_at) == ("handle", T0 + timedelta(hours=4))
    for case in (closed, no_clock):
        record = _record(engine, case.id)
        assert (record.sla_stage, record.due_at) == (None, None)


def test_datetimes_come_back_aware_utc(engine: Engine) -> None:
    beijing = timezone(timedelta(hours=8))
    local = T0.astimezone(beijing)
    case = make_case(created_at=local, updated_at=local, last_seq=1)
    project_case(engine, case, make_events(1, at=local))

    record = _record(engine, case.id)
    for value in (record.created_at, record.updated_at, record.due_at):
        assert value is not None
        assert value.tzinfo is not None and value.utcoffset() == timedelta(0)
    assert record.created_at == T0
    [event] = case_events(engine, case.id)
    assert event.at == T0 and event.at.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused_and_nothing_is_written(engine: Engine) -> None:
    case = make_case(last_seq=1)
    [event] = make_events(1)
    with pytest.raises(ValueError, match="naive datetime"):
        project_case(engine, case, [replace(event, at=datetime(2026, 3, 2, 9, 0))])
    assert get_case(engine, case.id) is None


def test_concurrent_projections_settle_on_the_newest(engine: Engine) -> None:
    # Several workers may run projection activities of the same case at once.
    versions = [make_case(last_seq=seq, escalations=seq) for seq in range(1, 9)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(versions))

    def project(seq: int) -> None:
        try:
            start.wait()
            project_case(engine, versions[seq - 1], make_events(1, first_seq=seq))
        except BaseException as err:  # collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=project, args=(seq,)) for seq in (5, 8, 1, 3, 7, 2, 6, 4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert get_case(engine, versions[0].id) == versions[-1]
    assert _count_events(engine, versions[0].id) == 8
