"""GrievanceWorkflow on the time-skipping server, with the real activities."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Engine
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from grievance_flow.runtime import load_domain
from grievance_flow.store import queries
from grievance_flow.workflows.contracts import (
    AcceptInput,
    Action,
    CompleteInput,
    CompletionResult,
    EventType,
    Outcome,
    ProgressInput,
    RecheckInput,
    RejectInput,
    ReturnInput,
    Satisfaction,
    Stage,
    Status,
    SuperviseInput,
    WithdrawInput,
)
from grievance_flow.workflows.grievance import GrievanceWorkflow
from tests.builders import CASE_CATEGORY, DISPATCHER, HOTLINE, VERIFIER, unit
from tests.workflows.harness import (
    GRID,
    Harness,
    accepted_updates,
    act,
    dispatch_to,
    running_harness,
    timeline,
)


@pytest.fixture
async def harness(time_skipping_env: WorkflowEnvironment, engine: Engine) -> AsyncIterator[Harness]:
    """Runs each test twice: projecting to SQLite and to PostgreSQL."""
    async with running_harness(time_skipping_env, load_domain(None), engine) as running:
        yield running


async def test_whole_lifecycle_closes_with_timeline_deadlines_and_read_model(
    harness: Harness,
) -> None:
    handle = await harness.file()
    case = await handle.query(GrievanceWorkflow.case)
    assert case.stage is Stage.CLASSIFY
    assert case.suggested_category == CASE_CATEGORY
    assert "classify" in case.deadlines

    case = await dispatch_to(handle)
    assert (case.stage, case.unit, case.category) == (Stage.ACCEPT, GRID, "city.street-vending")
    accept_clock = case.deadlines["accept"]
    assert accept_clock.started_at < accept_clock.warn_at < accept_clock.due_at

    case = await act(handle, Action.ACCEPT, AcceptInput(actor=unit(GRID)))
    assert case.stage is Stage.HANDLE and "handle" in case.deadlines
    await act(handle, Action.PROGRESS, ProgressInput(actor=unit(GRID), note="已联系城管中队"))
    case = await act(
        handle,
        Action.COMPLETE,
        CompleteInput(actor=unit(GRID), result=CompletionResult.RESOLVED, note="摊贩已清理"),
    )
    assert case.stage is Stage.RECHECK
    case = await act(
        handle,
        Action.RECHECK,
        RecheckInput(actor=VERIFIER, passed=True, satisfaction=Satisfaction.SATISFIED),
    )
    assert case.status is Status.CLOSED and case.outcome is Outcome.RESOLVED
    result = await handle.result()
    assert result.outcome is Outcome.RESOLVED

    assert await timeline(handle) == [
        "reported",
        "suggested",
        "dispatched",
        "accepted",
        "progress",
        "completed",
        "rechecked",
        "closed",
    ]
    stored = queries.get_case(harness.engine, case.id)
    assert stored is not None and stored.status is Status.CLOSED
    assert [event.type for event in queries.case_events(harness.engine, case.id)][-1] is (
        EventType.CLOSED
    )


async def test_return_goes_back_to_classify_and_the_old_unit_loses_the_case(
    harness: Harness,
) -> None:
    handle = await harness.file()
    await dispatch_to(handle, "grid-2")
    case = await act(
        handle, Action.RETURN, ReturnInput(actor=unit("grid-2"), reason="不属于本网格")
    )
    assert (case.stage, case.unit, case.returns) == (Stage.CLASSIFY, None, 1)

    await dispatch_to(handle, GRID)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await act(handle, Action.ACCEPT, AcceptInput(actor=unit("grid-2")))
    assert isinstance(refused.value.cause, ApplicationError)
    assert refused.value.cause.type == "Forbidden"
    case = await act(handle, Action.ACCEPT, AcceptInput(actor=unit(GRID)))
    assert case.stage is Stage.HANDLE
    assert (await timeline(handle))[2:] == ["dispatched", "returned", "dispatched", "accepted"]
    await act(handle, Action.WITHDRAW, WithdrawInput(actor=HOTLINE, reason="test done"))


async def test_failed_recheck_reopens_then_closes(harness: Harness) -> None:
    handle = await harness.file()
    await dispatch_to(handle)
    await act(handle, Action.ACCEPT, AcceptInput(actor=unit(GRID)))
    done = CompleteInput(actor=unit(GRID), result=CompletionResult.RESOLVED, note="已处理")
    await act(handle, Action.COMPLETE, done)
    case = await act(
        handle,
        Action.RECHECK,
        RecheckInput(actor=VERIFIER, passed=True, satisfaction=Satisfaction.UNSATISFIED),
    )
    assert (case.stage, case.reopens, case.status) == (Stage.HANDLE, 1, Status.OPEN)
    await act(handle, Action.COMPLETE, done)
    case = await act(
        handle,
        Action.RECHECK,
        RecheckInput(actor=VERIFIER, passed=True, satisfaction=Satisfaction.BASICALLY_SATISFIED),
    )
    assert case.status is Status.CLOSED and case.outcome is Outcome.RESOLVED
    assert (await timeline(handle)).count("reopened") == 1


async def test_withdraw_closes_from_handle(harness: Harness) -> None:
    handle = await harness.file()
    await dispatch_to(handle)
    await act(handle, Action.ACCEPT, AcceptInput(actor=unit(GRID)))
    case = await act(handle, Action.WITHDRAW, WithdrawInput(actor=HOTLINE, reason="市民已自行解决"))
    assert (case.status, case.outcome, case.stage) == (
        Status.CLOSED,
        Outcome.WITHDRAWN,
        Stage.CLOSED,
    )
    assert (await handle.result()).outcome is Outcome.WITHDRAWN
    assert (await timeline(handle))[-2:] == ["withdrawn", "closed"]


async def test_reject_closes_from_classify(harness: Harness) -> None:
    handle = await harness.file()
    case = await act(handle, Action.REJECT, RejectInput(actor=DISPATCHER, reason="非本区事项"))
    assert case.outcome is Outcome.REJECTED
    assert (await handle.result()).outcome is Outcome.REJECTED


async def test_refused_actions_leave_nothing_in_history(harness: Harness) -> None:
    handle = await harness.file()
    before = await timeline(handle)
    refusals = [
        (Action.ACCEPT, AcceptInput(actor=unit(GRID)), "Forbidden"),  # unassigned
        (
            Action.COMPLETE,
            CompleteInput(actor=unit(GRID), result=CompletionResult.RESOLVED, note="x"),
            "Forbidden",
        ),
        (
            Action.RECHECK,
            RecheckInput(actor=VERIFIER, passed=True, satisfaction=Satisfaction.SATISFIED),
            "Conflict",
        ),
        (Action.SUPERVISE, SuperviseInput(actor=HOTLINE, note="催"), "Forbidden"),
        (Action.REJECT, RejectInput(actor=DISPATCHER, reason="  "), "InvalidAction"),
    ]
    for update, command, expected in refusals:
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await act(handle, update, command)
        assert isinstance(refused.value.cause, ApplicationError)
        assert refused.value.cause.type == expected, refused.value.cause.message
    assert await timeline(handle) == before
    assert await accepted_updates(handle) == ["intake"]

    await act(handle, Action.SUPERVISE, SuperviseInput(actor=DISPATCHER, note="重点督办"))
    case = await handle.query(GrievanceWorkflow.case)
    assert case.supervised
    assert await accepted_updates(handle) == ["intake", Action.SUPERVISE.value]
    await act(handle, Action.WITHDRAW, WithdrawInput(actor=HOTLINE, reason="test done"))
    assert await accepted_updates(handle) == ["intake", "supervise", "withdraw"]
