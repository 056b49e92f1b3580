"""``grievance projection rebuild``: the read model comes back identical from Temporal alone.

Cases run through different paths with a real worker and a SQLite read model.
Then the read model is rebuilt three times: over itself (nothing changes), after
it was deleted and re-created empty, and once more (idempotent). Every list,
every case row and every event row must come out byte for byte as the worker's
own projections left them; nothing is ignored, because nothing in them depends
on when or how often they were written, only on the history.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from temporalio.testing import WorkflowEnvironment

from grievance_flow import search_attributes
from grievance_flow.binaries import temporal_cli
from grievance_flow.runtime import load_domain
from grievance_flow.store import queries
from grievance_flow.store.engine import make_engine, migrate, sqlite_url_for
from grievance_flow.workflows.contracts import (
    AcceptInput,
    Action,
    CaseView,
    CompleteInput,
    CompletionResult,
    MergeInput,
    ProgressInput,
    RecheckInput,
    RejectInput,
    ReturnInput,
    Satisfaction,
    Stage,
    SuperviseInput,
    WithdrawInput,
)
from grievance_flow.workflows.grievance import GrievanceWorkflow
from tests.audit.conftest import close_resolved, grievance, point_at
from tests.builders import DISPATCHER, HOTLINE, VENDING_TEXT, VERIFIER, unit
from tests.workflows.harness import GRID, Handle, Harness, act, dispatch_to, running_harness

NOW = datetime.now(UTC)
"""The one instant every "overdue" list is judged at, before and after."""


@pytest.fixture(scope="module")
async def own_server() -> AsyncIterator[WorkflowEnvironment]:
    """A dev server of this module's own.

    A rebuild re-projects every grievance on the server; on the shared one it
    would also bring in other tests' cases, which this read model never had.
    Its client keeps the SDK's default data converter on purpose: the cases
    are projected as a worker from before ``grievance_flow.payloads`` did, and
    the rebuild (on the pydantic converter) must still give the same rows.
    """
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli()),
        dev_server_log_level="error",
        search_attributes=search_attributes.ALL,
    )
    try:
        yield env
    finally:
        await env.shutdown()


async def run_cases(harness: Harness) -> list[Handle]:
    """One case per path, some closed, some left open in different stages."""
    resolved = await harness.file()
    await close_resolved(resolved)

    returned_then_withdrawn = await harness.file()
    await dispatch_to(returned_then_withdrawn, GRID)
    await act(
        returned_then_withdrawn,
        Action.RETURN,
        ReturnInput(actor=unit(GRID), reason="不属于本网格"),
    )
    await dispatch_to(returned_then_withdrawn, "grid-2")
    await act(
        returned_then_withdrawn, Action.WITHDRAW, WithdrawInput(actor=HOTLINE, reason="市民撤诉")
    )

    rejected = await harness.file()
    await act(rejected, Action.REJECT, RejectInput(actor=DISPATCHER, reason="非政务诉求"))

    handling = await harness.file()
    await dispatch_to(handling, GRID)
    await act(handling, Action.ACCEPT, AcceptInput(actor=unit(GRID)))
    await act(handling, Action.PROGRESS, ProgressInput(actor=unit(GRID), note="已约谈施工方"))
    await act(handling, Action.SUPERVISE, SuperviseInput(actor=DISPATCHER, note="重点督办"))

    duplicate = await harness.file()
    await act(duplicate, Action.MERGE, MergeInput(actor=DISPATCHER, into=handling.id))

    auto_dispatched = await harness.file(description=VENDING_TEXT)

    reopened = await harness.file()
    await dispatch_to(reopened, GRID)
    await act(reopened, Action.ACCEPT, AcceptInput(actor=unit(GRID)))
    await act(
        reopened,
        Action.COMPLETE,
        CompleteInput(actor=unit(GRID), result=CompletionResult.EXPLAINED, note="已解释"),
    )
    await act(
        reopened,
        Action.RECHECK,
        RecheckInput(actor=VERIFIER, passed=False, satisfaction=Satisfaction.UNSATISFIED),
    )
    return [
        resolved,
        returned_then_withdrawn,
        rejected,
        handling,
        duplicate,
        auto_dispatched,
        reopened,
    ]


async def settled(engine: Engine, handles: list[Handle]) -> None:
    """Wait until the read model has every case as far as its workflow has it."""
    for handle in handles:
        snapshot = await handle.query(GrievanceWorkflow.snapshot)
        for _ in range(200):
            stored = await asyncio.to_thread(queries.get_case, engine, handle.id)
            if stored is not None and stored.last_seq == snapshot.case.last_seq:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"{handle.id} was never fully projected")


async def listed_by_temporal(env: WorkflowEnvironment, count: int) -> None:
    """Wait until visibility (eventually consistent) lists all ``count`` cases."""
    query = "WorkflowType = 'GrievanceWorkflow'"
    for _ in range(200):
        if len([run async for run in env.client.list_workflows(query)]) == count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"Temporal never listed {count} cases")


@dataclass
class ReadModel:
    """Everything the API reads: its lists, and every stored row, exactly as stored."""

    lists: dict[str, tuple[list[CaseView], int]]
    case_rows: list[dict[str, Any]]
    event_rows: list[dict[str, Any]]


def read_model(url: str) -> ReadModel:
    """Read the whole read model at ``url``."""
    engine = make_engine(url)
    try:
        lists = {
            "all": queries.list_cases(engine, now=NOW, limit=500),
            "page 2": queries.list_cases(engine, now=NOW, limit=3, offset=3),
            "handle": queries.list_cases(engine, stage=Stage.HANDLE, now=NOW),
            "closed": queries.list_cases(engine, stage=Stage.CLOSED, now=NOW),
            "grid-1": queries.list_cases(engine, unit=GRID, now=NOW),
            "vending": queries.list_cases(engine, category="city.street-vending", now=NOW),
            "on time": queries.list_cases(engine, overdue=False, now=NOW),
        }
        with engine.connect() as connection:
            cases = connection.execute(text("SELECT * FROM cases ORDER BY id")).mappings()
            case_rows = [dict(row) for row in cases]
            events = connection.execute(text("SELECT * FROM events ORDER BY case_id, seq"))
            event_rows = [dict(row) for row in events.mappings()]
    finally:
        engine.dispose()
    return ReadModel(lists, case_rows, event_rows)


def drop_read_model(data_dir: Path) -> None:
    """Delete the SQLite read model (WAL files too) and create it again, empty."""
    for name in ("readmodel.db", "readmodel.db-wal", "readmodel.db-shm"):
        (data_dir / name).unlink(missing_ok=True)
    migrate(sqlite_url_for(data_dir))


async def test_the_read_model_is_rebuilt_identical_from_temporal(
    own_server: WorkflowEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)  # the data dir's SQLite is the read model
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    url = sqlite_url_for(data_dir)
    engine = make_engine(url)
    migrate(engine)
    async with running_harness(own_server, load_domain(None), engine) as harness:
        handles = await run_cases(harness)
        await settled(engine, handles)
    # The worker is gone: a rebuild needs Temporal only, not a worker.
    engine.dispose()
    await listed_by_temporal(own_server, len(handles))
    point_at(own_server, data_dir)
    projected = read_model(url)
    assert len(projected.case_rows) == len(handles)
    assert {row["stage"] for row in projected.case_rows} == {"closed", "accept", "handle"}

    async def rebuild() -> ReadModel:
        run = await grievance("projection", "rebuild", "--data-dir", str(data_dir))
        assert run.code == 0, run.describe()
        assert f"cases rebuilt: {len(handles)}, skipped (nothing projected yet): 0, failed: 0" in (
            run.out
        ), run.describe()
        return read_model(url)

    assert await rebuild() == projected  # over itself: nothing changes

    drop_read_model(data_dir)
    assert read_model(url).case_rows == []
    assert await rebuild() == projected  # from nothing: the same
    assert await rebuild() == projected  # and again: idempotent


async def test_rebuild_without_a_reachable_system_exits_2(tmp_path: Path) -> None:
    run = await grievance("projection", "rebuild", "--data-dir", str(tmp_path))
    assert run.code == 2, run.describe()
    assert "system.json" in run.err
