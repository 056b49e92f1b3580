"""Issue 8's workflow defects, each reproduced on the time-skipping server.

Racing actions delivered in one workflow task, a keeper that raises, a merge
into a case that closed meanwhile, a merge storm's notices, and summoned units
whose report-in clocks an escalation stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from temporalio import activity
from temporalio.api.enums.v1 import EventType as HistoryEventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from grievance_flow.activities.classification import ClassificationActivities
from grievance_flow.activities.projection import ProjectionActivities
from grievance_flow.worker import ACTIVITY_THREADS, build_worker
from grievance_flow.workflows.contracts import (
    AcceptInput,
    Action,
    DeadlineInput,
    EventType,
    MergeInput,
    NoticeKind,
    Outcome,
    Role,
    StageDeadline,
    WhistleInput,
    WithdrawInput,
)
from grievance_flow.workflows.grievance import GrievanceWorkflow
from tests.builders import DISPATCHER, HOTLINE, intake, unit
from tests.workflows.harness import (
    GRID,
    Handle,
    Harness,
    accepted_updates,
    act,
    current,
    delivered_notices,
    dispatch_to,
    events,
    handed_over,
    seconds_domain,
    timeline,
)


@asynccontextmanager
async def worker_on(
    env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> AsyncIterator[Harness]:
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        worker = build_worker(
            env.client,
            domain=seconds_domain(),
            engine=engine,
            task_queue=task_queue,
            executor=executor,
        )
        async with worker:
            harness = Harness(env.client, task_queue, engine)
            try:
                yield harness
            finally:
                await harness.settle()


async def race(
    env: WorkflowEnvironment,
    engine: Engine,
    task_queue: str,
    first: tuple[Handle, Action, object],
    second: tuple[Handle, Action, object],
) -> list[object]:
    """Send two actions while no worker runs, so one workflow task delivers both, in order."""
    one = asyncio.create_task(act(*first))
    await asyncio.sleep(0.5)  # admitted first, so delivered first
    two = asyncio.create_task(act(*second))
    await asyncio.sleep(0.5)
    async with worker_on(env, engine, task_queue):
        return list(await asyncio.gather(one, two, return_exceptions=True))


def refusal_type(outcome: object) -> str | None:
    if not isinstance(outcome, WorkflowUpdateFailedError):
        return None
    assert isinstance(outcome.cause, ApplicationError)
    return outcome.cause.type


async def test_a_withdraw_racing_a_merge_is_refused_and_the_case_closes_once(
    dev_env: WorkflowEnvironment, sqlite_engine: Engine
) -> None:
    task_queue = f"test-{uuid.uuid4()}"
    async with worker_on(dev_env, sqlite_engine, task_queue) as desk:
        target = await desk.file()
        duplicate = await desk.file()
    outcomes = await race(
        dev_env,
        sqlite_engine,
        task_queue,
        (duplicate, Action.MERGE, MergeInput(actor=DISPATCHER, into=target.id)),
        (duplicate, Action.WITHDRAW, WithdrawInput(actor=HOTLINE, reason="市民撤回")),
    )
    async with worker_on(dev_env, sqlite_engine, task_queue):
        result = await duplicate.result()
        assert result.outcome is Outcome.MERGED
        assert refusal_type(outcomes[1]) == "Conflict"
        assert (await timeline(duplicate)).count("closed") == 1
        # The refused withdraw left no trace in the history.
        assert await accepted_updates(duplicate) == ["intake", "merge"]
        for _ in range(100):  # the target is told in a workflow task of its own
            if (await current(target)).merged_cases:
                break
            await asyncio.sleep(0.05)
        assert (await current(target)).merged_cases == [duplicate.id]
        await act(target, Action.WITHDRAW, WithdrawInput(actor=HOTLINE, reason="done"))


async def test_a_second_merge_racing_the_first_is_refused(
    dev_env: WorkflowEnvironment, sqlite_engine: Engine
) -> None:
    task_queue = f"test-{uuid.uuid4()}"
    async with worker_on(dev_env, sqlite_engine, task_queue) as desk:
        first_target, second_target = await desk.file(), await desk.file()
        duplicate = await desk.file()
    outcomes = await race(
        dev_env,
        sqlite_engine,
        task_queue,
        (duplicate, Action.MERGE, MergeInput(actor=DISPATCHER, into=first_target.id)),
        (duplicate, Action.MERGE, MergeInput(actor=DISPATCHER, into=second_target.id)),
    )
    async with worker_on(dev_env, sqlite_engine, task_queue):
        await duplicate.result()
        assert refusal_type(outcomes[1]) == "Conflict"
        assert (await current(duplicate)).merged_into == first_target.id
        assert await accepted_updates(duplicate) == ["intake", "merge"]
        for _ in range(100):
            if (await current(first_target)).merged_cases:
                break
            await asyncio.sleep(0.05)
        assert (await current(first_target)).merged_cases == [duplicate.id]
        assert (await current(second_target)).merged_cases == []
        for target in (first_target, second_target):
            await act(target, Action.WITHDRAW, WithdrawInput(actor=HOTLINE, reason="done"))


async def test_a_merge_into_a_case_closed_meanwhile_closes_and_tells_the_hotline(
    seconds_harness: Harness,
) -> None:
    target = await seconds_harness.file()
    duplicate = await seconds_harness.file()
    await act(target, Action.WITHDRAW, WithdrawInput(actor=HOTLINE, reason="市民撤回"))
    await target.result()

    # The API checks the target is open; here it closed after that check.
    case = await act(duplicate, Action.MERGE, MergeInput(actor=DISPATCHER, into=target.id))
    assert case.outcome is Outcome.MERGED
    await duplicate.result()
    assert await accepted_updates(duplicate) == ["intake", "merge"]
    notices = await delivered_notices(
        seconds_harness.engine, count=1, role=Role.HOTLINE, case_id=duplicate.id
    )
    assert [(n.kind, n.data) for n in notices] == [
        (
            NoticeKind.MERGED_CLOSED,
            {"duplicate": duplicate.id, "target": target.id, "target_closed": True},
        )
    ]


async def test_a_merge_storm_sends_its_notices_in_one_batch_and_records_one_per_merge(
    seconds_harness: Harness,
) -> None:
    target = await seconds_harness.file()
    duplicates = [await seconds_harness.file() for _ in range(6)]
    for duplicate in duplicates:
        await act(duplicate, Action.MERGE, MergeInput(actor=DISPATCHER, into=target.id))
    for _ in range(200):
        if len((await current(target)).merged_cases) == len(duplicates):
            break
        await asyncio.sleep(0.05)
    merged = [e for e in await events(target) if e.type is EventType.MERGED]
    # Each merge event names its own duplicate only, not the list so far (O(n²)).
    assert [e.data for e in merged] == [
        {"duplicate": d.id, "count": n} for n, d in enumerate(duplicates, start=1)
    ]

    await act(target, Action.WITHDRAW, WithdrawInput(actor=HOTLINE, reason="done"))
    await target.result()
    assert len(await handed_over(target)) == 1
    notices = await delivered_notices(
        seconds_harness.engine, count=len(duplicates), role=Role.HOTLINE, case_id=target.id
    )
    assert sorted(n.data["duplicate"] for n in notices) == sorted(d.id for d in duplicates)


@activity.defn(name="compute_deadline")
def broken_deadline(request: DeadlineInput) -> StageDeadline:
    """A deadline activity with a bug: it always fails, and says so."""
    raise ApplicationError("the SLA class table is broken", non_retryable=True)


async def test_a_keeper_that_raises_fails_the_workflow_task_visibly(
    dev_env: WorkflowEnvironment, sqlite_engine: Engine
) -> None:
    domain = seconds_domain()
    task_queue = f"test-{uuid.uuid4()}"
    grievance = intake()
    with ThreadPoolExecutor(max_workers=4) as executor:
        worker = Worker(
            dev_env.client,
            task_queue=task_queue,
            workflows=[GrievanceWorkflow],
            activities=[
                ClassificationActivities(domain.catalogue, sqlite_engine).suggest_category,
                ProjectionActivities(sqlite_engine).project_case,
                broken_deadline,
            ],
            activity_executor=executor,
        )
        async with worker:
            handle = await dev_env.client.start_workflow(
                GrievanceWorkflow.run, grievance, id=grievance.case_id, task_queue=task_queue
            )
            failure = ""
            for _ in range(300):
                history = await handle.fetch_history()
                failed = [
                    event.workflow_task_failed_event_attributes.failure.message
                    for event in history.events
                    if event.event_type == HistoryEventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
                ]
                if failed:
                    failure = failed[0]
                    break
                await asyncio.sleep(0.1)
            await handle.terminate("test over")
    assert "deadlines keeper failed" in failure
    assert "the SLA class table is broken" in failure


async def test_an_escalation_out_of_handle_says_which_summons_it_closes(
    seconds_harness: Harness, time_skipping_env: WorkflowEnvironment
) -> None:
    handle = await seconds_harness.file()
    await dispatch_to(handle, GRID)
    await act(handle, Action.ACCEPT, AcceptInput(actor=unit(GRID)))
    # handle is due at 200 s and escalates at 250 s; report-in is due 50 s after
    # the whistle, so a whistle at 190 s leaves it running when handle escalates.
    await time_skipping_env.sleep(timedelta(seconds=190))
    await act(
        handle,
        Action.WHISTLE,
        WhistleInput(actor=unit(GRID), units=["dept-cg", "dept-hs"], reason="联合执法"),
    )
    await time_skipping_env.sleep(timedelta(seconds=70))
    case = await current(handle)
    assert case.unit == "comm-1" and case.stage.value == "accept"
    closed = [e for e in await events(handle) if e.type is EventType.SUMMONS_CLOSED]
    assert [e.data for e in closed] == [
        {"units": ["dept-cg", "dept-hs"], "reason": "escalated", "to": "comm-1"}
    ]
    # They stay summoned: they may still read the case and report in later.
    assert case.co_units == ["dept-cg", "dept-hs"]
    assert "report_in:dept-cg" in case.deadlines
    await act(handle, Action.WITHDRAW, WithdrawInput(actor=HOTLINE, reason="done"))


@pytest.mark.parametrize("receiver_status", [404, 500])
async def test_a_case_closes_while_its_notices_still_fail(
    dev_env: WorkflowEnvironment, sqlite_engine: Engine, receiver_status: int
) -> None:
    # A receiver that refuses every notice must not keep the case open.
    from grievance_flow.notify.channels import LogChannel
    from grievance_flow.notify.notifier import Notifier
    from grievance_flow.notify.webhook import WebhookChannel
    from tests.receiver import WebhookReceiver

    with WebhookReceiver([receiver_status] * 1000) as receiver:
        notifier = Notifier([LogChannel(), WebhookChannel(receiver.url, timeout=2)])
        task_queue = f"test-{uuid.uuid4()}"
        with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
            worker = build_worker(
                dev_env.client,
                domain=seconds_domain(),
                engine=sqlite_engine,
                task_queue=task_queue,
                executor=executor,
                notifier=notifier,
            )
            async with worker:
                desk = Harness(dev_env.client, task_queue, sqlite_engine)
                handle = await desk.file()
                await dispatch_to(handle, GRID)
                await act(handle, Action.ACCEPT, AcceptInput(actor=unit(GRID)))
                from grievance_flow.workflows.contracts import SuperviseInput

                await act(handle, Action.SUPERVISE, SuperviseInput(actor=DISPATCHER, note="快办"))
                await act(handle, Action.WITHDRAW, WithdrawInput(actor=HOTLINE, reason="done"))
                result = await asyncio.wait_for(handle.result(), 30)
                assert result.outcome is Outcome.WITHDRAWN
                for _ in range(100):
                    if receiver.deliveries:
                        break
                    await asyncio.sleep(0.05)
                assert receiver.deliveries  # it was tried, and refused
                for delivery in await handed_over(handle):  # don't retry past the test
                    with contextlib.suppress(Exception):
                        await dev_env.client.get_workflow_handle(delivery).terminate("test over")
