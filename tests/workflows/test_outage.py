"""A read-model outage costs an open case a few history events once, not three every 8 s.

On the dev server, with the read model on PostgreSQL behind a
:class:`~benchmarks.tcp_proxy.CuttableProxy`: three cases (classify, accept,
handle) are projected, the database is cut, and each is given an action, so
each needs a projection it cannot write. Past ``LOCAL_PATIENCE`` and the 8 s
workflow-task heartbeat, the histories must stand still while the outage goes
on (a local activity retried without end would add three events every 8 s),
with the projection retried by the server meanwhile. Once the database is back
every case catches up by itself, and the read model equals a rebuild.

Every wait has a deadline, and the worker is stopped with one, so a hang
(a driver stuck on a half-open socket, a worker that cannot shut down) fails
the test instead of holding CI.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from temporalio.testing import WorkflowEnvironment

from benchmarks.read_model_diff import rows_differing
from benchmarks.tcp_proxy import CuttableProxy
from grievance_flow.audit.live import ALL_GRIEVANCES
from grievance_flow.audit.rebuild import rebuild_read_model
from grievance_flow.runtime import load_domain
from grievance_flow.store.engine import make_engine, migrate, normalize_url
from grievance_flow.store.queries import get_case
from grievance_flow.worker import ACTIVITY_THREADS, RunningWorker, build_worker
from grievance_flow.workflows.contracts import (
    AcceptInput,
    Action,
    ActivityName,
    ProgressInput,
    WithdrawInput,
)
from grievance_flow.workflows.keepers import LOCAL_PATIENCE
from tests.builders import HOTLINE, VENDING_TEXT, unit
from tests.databases import (
    DatabaseUnavailableError,
    make_test_database_url,
    skip_or_fail_unavailable,
)
from tests.workflows.harness import GRID, Handle, Harness, act, current, dispatch_to

pytestmark = pytest.mark.postgres

HEARTBEAT = 8.0
"""Seconds between the heartbeats of a workflow task kept open by a local activity
(80 % of the 10 s workflow task timeout)."""

QUIET_WINDOW = 15.0
"""Seconds of outage, after the heartbeat, in which no history may grow."""

ACTION_PATIENCE = 30.0
"""An action during the outage is answered once its projection gives up locally (6 s)."""

CATCH_UP = 90.0
"""The projection's back-off is capped at 30 s, and an attempt may take 30 s more."""

TEST_PATIENCE = 240.0
"""The whole test: past it, the test fails instead of hanging CI."""

SHUTDOWN_PATIENCE = 30.0
"""The worker's own graceful timeout is 10 s."""


@dataclass
class ProxiedDatabase:
    """A read model reached through a cuttable proxy, and an empty one for a rebuild."""

    proxy: CuttableProxy
    engine: Engine
    rebuilt: Engine


@pytest.fixture
def proxied() -> Iterator[ProxiedDatabase]:
    """Two fresh PostgreSQL databases: the live one through the proxy, the rebuild's direct."""
    with contextlib.ExitStack() as stack:
        try:
            live_url, drop_live = make_test_database_url("postgres")
            stack.callback(drop_live)
            rebuilt_url, drop_rebuilt = make_test_database_url("postgres")
            stack.callback(drop_rebuilt)
        except DatabaseUnavailableError as err:
            skip_or_fail_unavailable(err)
        server = make_url(normalize_url(live_url))
        proxy = stack.enter_context(CuttableProxy(server.host or "127.0.0.1", server.port or 5432))
        # A connect that hangs would hold an activity thread, and with it the
        # worker's shutdown: give up quickly instead (the proxy never leaves a
        # socket half open, but a real outage might).
        through_proxy = server.set(
            host="127.0.0.1",
            port=proxy.port,
            query={**server.query, "connect_timeout": "3", "options": "-c statement_timeout=5000"},
        )
        engine = make_engine(through_proxy.render_as_string(hide_password=False))
        stack.callback(engine.dispose)
        migrate(engine)
        rebuilt = make_engine(rebuilt_url)
        stack.callback(rebuilt.dispose)
        migrate(rebuilt)
        yield ProxiedDatabase(proxy, engine, rebuilt)


@asynccontextmanager
async def worker_on(env: WorkflowEnvironment, engine: Engine) -> AsyncIterator[Harness]:
    """A worker with the real activities and the default catalogue (SLA clocks in days)."""
    task_queue = f"test-outage-{uuid.uuid4()}"
    executor = ThreadPoolExecutor(max_workers=ACTIVITY_THREADS)
    worker = RunningWorker(
        build_worker(
            env.client,
            domain=load_domain(None),
            engine=engine,
            task_queue=task_queue,
            executor=executor,
        )
    )
    try:
        yield Harness(env.client, task_queue, engine)
    finally:
        try:
            await asyncio.wait_for(worker.stop(), SHUTDOWN_PATIENCE)
        finally:
            # Never wait on a thread here: a stuck one would hang the test.
            executor.shutdown(wait=False, cancel_futures=True)


async def history_length(handle: Handle) -> int:
    """Events in the case's history now."""
    described = await handle.describe()
    return described.raw_description.workflow_execution_info.history_length


async def history_lengths(handles: list[Handle]) -> dict[str, int]:
    lengths = await asyncio.gather(*(history_length(handle) for handle in handles))
    return {handle.id: length for handle, length in zip(handles, lengths, strict=True)}


async def projection_attempts(handle: Handle) -> int:
    """The attempt the server is on with the case's pending projection (0: none pending)."""
    described = await handle.describe()
    return max(
        (
            pending.attempt
            for pending in described.raw_description.pending_activities
            if pending.activity_type.name == ActivityName.PROJECT.value
        ),
        default=0,
    )


async def wait_caught_up(engine: Engine, handles: list[Handle], *, patience: float) -> None:
    """Wait until the read model holds every case exactly as its workflow has it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    while True:
        behind = [
            handle.id
            for handle in handles
            if await asyncio.to_thread(get_case, engine, handle.id) != await current(handle)
        ]
        if not behind:
            return
        if loop.time() > deadline:
            pytest.fail(f"the read model is still behind after {patience:.0f} s for {behind}")
        await asyncio.sleep(0.5)


async def rebuild(desk: Harness, engine: Engine, expected: int) -> None:
    """Rebuild the read model of ``desk``'s cases into ``engine`` from their histories."""
    query = f"{ALL_GRIEVANCES} AND TaskQueue = '{desk.task_queue}'"
    for _ in range(100):  # visibility may lag the starts by a moment
        if (await desk.client.count_workflows(query)).count == expected:
            break
        await asyncio.sleep(0.1)
    summary = await rebuild_read_model(desk.client, engine, query=query)
    assert summary.failed == []
    assert len(summary.rebuilt) == expected


async def test_an_outage_adds_no_history_while_it_lasts_and_every_case_catches_up(
    dev_env: WorkflowEnvironment, proxied: ProxiedDatabase
) -> None:
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(TEST_PATIENCE), worker_on(dev_env, proxied.engine) as desk:
        in_classify = await desk.file()
        in_accept = await desk.file(description=VENDING_TEXT)  # auto-dispatched to the grid
        in_handle = await desk.file(description=VENDING_TEXT)
        await act(in_handle, Action.ACCEPT, AcceptInput(actor=unit(GRID)))
        cases = [in_classify, in_accept, in_handle]
        await wait_caught_up(proxied.engine, cases, patience=30)
        before = await history_lengths(cases)

        proxied.proxy.cut()
        try:
            cut_at = loop.time()
            # Each needs a projection now; each is answered once it stops trying locally.
            await asyncio.wait_for(
                asyncio.gather(
                    dispatch_to(in_classify),
                    act(in_accept, Action.ACCEPT, AcceptInput(actor=unit(GRID))),
                    act(in_handle, Action.PROGRESS, ProgressInput(actor=unit(GRID), note="到场")),
                ),
                ACTION_PATIENCE,
            )
            past_heartbeat = cut_at + LOCAL_PATIENCE.total_seconds() + HEARTBEAT + 2
            await asyncio.sleep(max(0.0, past_heartbeat - loop.time()))
            settled = await history_lengths(cases)
            attempts = [await projection_attempts(handle) for handle in cases]
            await asyncio.sleep(QUIET_WINDOW)
            later = await history_lengths(cases)
            retried = [await projection_attempts(handle) for handle in cases]
        finally:
            # Also when an assertion fails: a local activity retried for ever
            # would otherwise keep the worker from shutting down.
            proxied.proxy.restore()

        assert later == settled, (
            f"history grew during the outage: {settled} -> {later} (before it: {before})"
        )
        # The projection is not given up: the server retries it, outside the history.
        assert all(count >= 1 for count in attempts), attempts
        assert all(now > then for now, then in zip(retried, attempts, strict=True)), (
            f"projection attempts {attempts} -> {retried}"
        )
        assert proxied.proxy.refused > 0  # the outage was real

        await wait_caught_up(proxied.engine, cases, patience=CATCH_UP)
        await rebuild(desk, proxied.rebuilt, expected=len(cases))
        ids = [handle.id for handle in cases]
        assert await asyncio.to_thread(rows_differing, proxied.engine, proxied.rebuilt, ids) == []

        for handle in cases:  # close them, so no open case outlives the test
            await act(handle, Action.WITHDRAW, WithdrawInput(actor=HOTLINE, reason="test over"))
            await asyncio.wait_for(handle.result(), 30)
