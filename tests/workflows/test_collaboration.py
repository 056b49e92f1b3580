"""Dispatch and collaboration on the time-skipping server (issue 4's paths).

Auto-dispatch, the return limit and arbitration, whistle and report-in, merge,
and the reopen limit, with the real activities and a seconds catalogue.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from grievance_flow.store import queries
from grievance_flow.workflows.contracts import (
    AcceptInput,
    Action,
    ArbitrateInput,
    CompleteInput,
    CompletionResult,
    DispatchInput,
    EventType,
    MergeInput,
    NoticeKind,
    Outcome,
    ProgressInput,
    RecheckInput,
    ReportInInput,
    ReturnInput,
    Role,
    Satisfaction,
    Stage,
    Status,
    WhistleInput,
    WithdrawInput,
)
from tests.builders import DISPATCHER, HOTLINE, VENDING_TEXT, VERIFIER, unit
from tests.workflows.harness import (
    GRID,
    Handle,
    Harness,
    act,
    current,
    delivered_notices,
    dispatch_to,
    events,
)


async def refused(handle: Handle, action: Action, command: object) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await act(handle, action, command)
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


async def test_a_clear_text_is_dispatched_automatically_an_unclear_one_waits(
    seconds_harness: Harness,
) -> None:
    clear = await seconds_harness.file(description=VENDING_TEXT)
    case = await current(clear)
    assert (case.stage, case.unit, case.category) == (Stage.ACCEPT, GRID, "city.street-vending")
    dispatched = next(e for e in await events(clear) if e.type is EventType.DISPATCHED)
    assert dispatched.actor.role is Role.SYSTEM and dispatched.data["auto"] is True
    assert "accept" in case.deadlines and "classify" not in case.deadlines

    unclear = await seconds_harness.file(
        description="我要反映个情况，你们上次说的那个事到现在还没人管"
    )
    case = await current(unclear)
    assert case.stage is Stage.CLASSIFY and case.unit is None
    for handle in (clear, unclear):
        await act(handle, Action.WITHDRAW, WithdrawInput(actor=HOTLINE, reason="done"))


async def test_the_return_limit_forces_arbitration_which_cannot_be_returned(
    seconds_harness: Harness,
) -> None:
    handle = await seconds_harness.file()
    cause = await refused(handle, Action.ARBITRATE, ArbitrateInput(DISPATCHER, GRID, "D"))
    assert cause.type == "Conflict"  # nothing to arbitrate yet: dispatch it
    for reason in ("不属于本网格", "仍不属于本网格"):
        await dispatch_to(handle, "grid-2")
        await act(handle, Action.RETURN, ReturnInput(actor=unit("grid-2"), reason=reason))
    case = await current(handle)
    assert case.returns == 2
    cause = await refused(
        handle,
        Action.DISPATCH,
        DispatchInput(actor=DISPATCHER, category="city.street-vending", unit=GRID, tier="D"),
    )
    assert cause.type == "Conflict" and "arbitrated" in cause.message
    case = await act(
        handle, Action.ARBITRATE, ArbitrateInput(DISPATCHER, GRID, "D", "裁定由一网格办理")
    )
    assert (case.stage, case.unit, case.arbitrated) == (Stage.ACCEPT, GRID, True)
    cause = await refused(handle, Action.RETURN, ReturnInput(actor=unit(GRID), reason="不归我管"))
    assert cause.type == "Conflict" and "arbitrated" in cause.message
    timeline = await events(handle)
    assert [e.data["reason"] for e in timeline if e.type is EventType.RETURNED] == [
        "不属于本网格",
        "仍不属于本网格",
    ]
    assert EventType.ARBITRATED in {e.type for e in timeline}
    await act(handle, Action.ACCEPT, AcceptInput(actor=unit(GRID)))
    await act(handle, Action.WITHDRAW, WithdrawInput(actor=HOTLINE, reason="done"))


async def test_whistle_and_report_in(
    seconds_harness: Harness, time_skipping_env: WorkflowEnvironment
) -> None:
    handle = await seconds_harness.file()
    await dispatch_to(handle, GRID)
    await act(handle, Action.ACCEPT, AcceptInput(actor=unit(GRID)))
    summon = WhistleInput(actor=unit(GRID), units=["dept-cg", "dept-ga"], reason="需执法配合")
    case = await act(handle, Action.WHISTLE, summon)
    assert case.co_units == ["dept-cg", "dept-ga"]
    assert {"report_in:dept-cg", "report_in:dept-ga"} <= set(case.deadlines)

    cause = await refused(handle, Action.REPORT_IN, ReportInInput(actor=unit("grid-2")))
    assert cause.type == "Forbidden"
    await act(handle, Action.REPORT_IN, ReportInInput(actor=unit("dept-cg"), note="已到场"))
    cause = await refused(handle, Action.REPORT_IN, ReportInInput(actor=unit("dept-cg")))
    assert cause.type == "Conflict"
    await act(handle, Action.PROGRESS, ProgressInput(actor=unit("dept-ga"), note="派员处置"))
    done = CompleteInput(actor=unit("dept-ga"), result=CompletionResult.RESOLVED, note="已处理")
    assert (await refused(handle, Action.COMPLETE, done)).type == "Forbidden"

    # dept-ga never reports in: its report-in clock (50 s) goes overdue, by name.
    await time_skipping_env.sleep(timedelta(seconds=60))
    timeline = await events(handle)
    overdue = [e for e in timeline if e.type is EventType.SLA_OVERDUE]
    assert [(e.data["clock"], e.data["unit"]) for e in overdue] == [
        ("report_in:dept-ga", "dept-ga")
    ]
    chased = [e for e in timeline if e.type is EventType.CHASED]
    assert [e.data["recipient"] for e in chased] == ["dept-ga"]
    reported = [e.data for e in timeline if e.type is EventType.REPORTED_IN]
    assert reported == [{"unit": "dept-cg", "note": "已到场", "on_time": True}]
    assert (await current(handle)).reported_in == ["dept-cg"]
    await act(handle, Action.WITHDRAW, WithdrawInput(actor=HOTLINE, reason="done"))


async def test_merge_closes_the_duplicate_and_the_target_tells_the_hotline_at_close(
    seconds_harness: Harness, sqlite_engine: Engine
) -> None:
    target = await seconds_harness.file()
    duplicate = await seconds_harness.file()
    target_id = (await current(target)).id
    case = await act(duplicate, Action.MERGE, MergeInput(actor=DISPATCHER, into=target_id))
    assert (case.status, case.outcome, case.merged_into) == (
        Status.CLOSED,
        Outcome.MERGED,
        target_id,
    )
    assert (await duplicate.result()).outcome is Outcome.MERGED

    for _ in range(50):  # the signal reaches the target in its next workflow task
        if (await current(target)).merged_cases:
            break
        await asyncio.sleep(0.05)
    target_case = await current(target)
    assert target_case.merged_cases == [case.id]
    merged = [e for e in await events(target) if e.type is EventType.MERGED]
    assert merged[0].data == {"duplicate": case.id, "count": 1}

    cause = await refused(target, Action.MERGE, MergeInput(actor=DISPATCHER, into=target_id))
    assert cause.type == "InvalidAction"  # into itself

    await act(target, Action.WITHDRAW, WithdrawInput(actor=HOTLINE, reason="市民撤回"))
    await target.result()
    notices = await delivered_notices(
        sqlite_engine, count=1, unit=None, role=Role.HOTLINE, case_id=target_id
    )
    assert [(n.kind, n.data["duplicate"]) for n in notices] == [(NoticeKind.MERGED_CLOSED, case.id)]


async def test_intake_lists_possible_duplicates(
    seconds_harness: Harness, sqlite_engine: Engine
) -> None:
    first = await seconds_harness.file(grid="grid-3")
    first_id = (await current(first)).id
    for _ in range(50):  # wait for the first case to reach the read model
        if queries.get_case(sqlite_engine, first_id) is not None:
            break
        await asyncio.sleep(0.05)
    second = await seconds_harness.file(grid="grid-3")
    other_grid = await seconds_harness.file(grid="grid-4")
    suggested = next(e for e in await events(second) if e.type is EventType.SUGGESTED)
    assert suggested.data["possible_duplicates"] == [first_id]
    elsewhere = next(e for e in await events(other_grid) if e.type is EventType.SUGGESTED)
    assert "possible_duplicates" not in elsewhere.data
    for handle in (first, second, other_grid):
        await act(handle, Action.WITHDRAW, WithdrawInput(actor=HOTLINE, reason="done"))


async def test_the_third_failed_recheck_closes_unresolved_and_supervised(
    seconds_harness: Harness,
) -> None:
    handle = await seconds_harness.file()
    await dispatch_to(handle, GRID)
    await act(handle, Action.ACCEPT, AcceptInput(actor=unit(GRID)))
    done = CompleteInput(actor=unit(GRID), result=CompletionResult.RESOLVED, note="已处理")
    failed = RecheckInput(actor=VERIFIER, passed=False, satisfaction=Satisfaction.UNSATISFIED)
    for reopened in (1, 2):
        await act(handle, Action.COMPLETE, done)
        case = await act(handle, Action.RECHECK, failed)
        assert (case.stage, case.reopens) == (Stage.HANDLE, reopened)
    await act(handle, Action.COMPLETE, done)
    case = await act(handle, Action.RECHECK, failed)
    assert (case.status, case.outcome, case.supervised) == (
        Status.CLOSED,
        Outcome.UNRESOLVED,
        True,
    )
    types = [e.type for e in await events(handle)]
    assert types.count(EventType.REOPENED) == 2
    assert types[-2:] == [EventType.SUPERVISED, EventType.CLOSED]
