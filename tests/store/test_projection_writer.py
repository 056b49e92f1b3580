"""The projection writer: many projections to a transaction, each failing only itself."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from datetime import datetime

import pytest
from sqlalchemy import Engine

from grievance_flow.store.projection_writer import ProjectionWriter, ProjectionWriterClosedError
from grievance_flow.store.queries import case_events, get_case
from tests.store.factories import make_case, make_events


def _writer_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "projection-writer"]


async def test_concurrent_projections_all_land(engine: Engine) -> None:
    writer = ProjectionWriter(engine)
    cases = [make_case(f"12345-{n:04d}", last_seq=3) for n in range(40)]
    await asyncio.gather(*(writer.write(case, make_events(3), version=1) for case in cases))
    writer.close()
    for case in cases:
        stored = get_case(engine, case.id)
        assert stored is not None and stored.last_seq == 3
        assert [event.seq for event in case_events(engine, case.id)] == [1, 2, 3]


async def test_a_bad_projection_fails_alone_and_its_batch_neighbours_land(
    engine: Engine,
) -> None:
    writer = ProjectionWriter(engine)
    good = [make_case(f"12345-{n:04d}", last_seq=2) for n in range(5)]
    # A naive datetime is refused before it reaches SQL (the read model keeps instants).
    naive = replace(make_case("12345-9999", last_seq=2), created_at=datetime(2026, 3, 2, 9, 0))
    results = await asyncio.gather(
        *(writer.write(case, make_events(2), version=1) for case in [*good[:2], naive, *good[2:]]),
        return_exceptions=True,
    )
    writer.close()
    assert isinstance(results[2], ValueError) and "naive" in str(results[2])
    assert [result for index, result in enumerate(results) if index != 2] == [None] * 5
    assert get_case(engine, naive.id) is None
    for case in good:
        assert get_case(engine, case.id) is not None


async def test_a_newer_version_written_first_is_not_rolled_back_in_one_batch(
    engine: Engine,
) -> None:
    writer = ProjectionWriter(engine)
    newer = make_case(last_seq=4)
    older = make_case(last_seq=2)
    await asyncio.gather(
        writer.write(newer, make_events(4), version=20),
        writer.write(older, make_events(2), version=10),
    )
    writer.close()
    stored = get_case(engine, newer.id)
    assert stored is not None and stored.last_seq == 4
    assert len(case_events(engine, newer.id)) == 4


async def test_the_thread_ends_when_idle_and_starts_again(engine: Engine) -> None:
    writer = ProjectionWriter(engine, idle_exit=0.05)
    before = len(_writer_threads())
    await writer.write(make_case("12345-0001", last_seq=1), make_events(1), version=1)
    for _ in range(100):
        if len(_writer_threads()) == before:
            break
        await asyncio.sleep(0.05)
    assert len(_writer_threads()) == before
    await writer.write(make_case("12345-0002", last_seq=1), make_events(1), version=1)
    assert get_case(engine, make_case("12345-0002").id) is not None
    writer.close()


async def test_a_closed_writer_refuses_work(engine: Engine) -> None:
    writer = ProjectionWriter(engine)
    await writer.write(make_case(last_seq=1), make_events(1), version=1)
    writer.close()
    with pytest.raises(ProjectionWriterClosedError):
        await writer.write(make_case(last_seq=1), make_events(1), version=2)


async def test_a_cancelled_wait_still_writes_and_breaks_nothing(engine: Engine) -> None:
    writer = ProjectionWriter(engine)
    case = make_case(last_seq=1)
    waiting = asyncio.create_task(writer.write(case, make_events(1), version=1))
    await asyncio.sleep(0)
    waiting.cancel()
    # The next projection is written and answered although its predecessor's
    # waiter is gone (an activity that timed out).
    await writer.write(make_case("12345-0002", last_seq=1), make_events(1), version=1)
    writer.close()
    assert get_case(engine, case.id) is not None
