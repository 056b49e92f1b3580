"""NoticeDeliveryWorkflow through a real worker on the time-skipping server.

The worker is ``build_worker``'s, with the real ``send_notice`` posting to a
real HTTP receiver (tests/receiver.py) and a SQLite read model. Retries and
back-off happen in Temporal, so these show what a case's notices go through:
a 404 is final at once, a 500 is retried until it lands, ``Retry-After`` sets
the wait, and the delivery window ends every notice. (One test runs on the dev server:
the time-skipping server ignores a failure's ``next_retry_delay``.)
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from temporalio import activity
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHistory
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from grievance_flow.notify import LogChannel, Notifier, WebhookChannel
from grievance_flow.runtime import load_domain
from grievance_flow.store.notices import DeliveryStatus, NoticeDelivery, delivery_of, list_notices
from grievance_flow.worker import ACTIVITY_THREADS, build_worker
from grievance_flow.workflows.contracts import (
    AcceptInput,
    Action,
    ActivityName,
    Notice,
    NoticeBatch,
    NoticeKind,
    SuperviseInput,
    WithdrawInput,
)
from grievance_flow.workflows.notice_delivery import (
    BATCH_PER_RUN,
    NoticeDeliveryWorkflow,
    delivery_workflow_id,
)
from tests.builders import DISPATCHER, HOTLINE, unit
from tests.receiver import WebhookReceiver
from tests.store.factories import make_notice
from tests.workflows.harness import GRID, Harness, act, dispatch_to

WINDOW = timedelta(minutes=5)


@asynccontextmanager
async def delivering(
    env: WorkflowEnvironment, engine: Engine, receiver: WebhookReceiver
) -> AsyncIterator[str]:
    """The app's worker, its notices posted to ``receiver``; yields the task queue."""
    task_queue = f"notices-{uuid.uuid4()}"
    notifier = Notifier(
        [LogChannel(), WebhookChannel(receiver.url, timeout=5)], delivery_window=WINDOW
    )
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        worker = build_worker(
            env.client,
            domain=load_domain(None),
            engine=engine,
            task_queue=task_queue,
            executor=executor,
            notifier=notifier,
        )
        async with worker:
            yield task_queue


async def notices(env: WorkflowEnvironment, count: int = 1) -> list[Notice]:
    """``count`` notices of one new case, queued now (on the server's clock, as a case does)."""
    case_id = f"grievance-N-{uuid.uuid4().hex[:10]}"
    now = await env.get_current_time()
    return [
        make_notice(f"{case_id}:{seq}", case_id=case_id, kind=NoticeKind.MERGED_CLOSED, at=now)
        for seq in range(1, count + 1)
    ]


async def deliver(client: Client, task_queue: str, batch: Sequence[Notice]) -> WorkflowHistory:
    """Run the delivery to its end, as a case's abandoned child would; return its history."""
    notices = NoticeBatch(notices=list(batch))
    handle = await client.start_workflow(
        NoticeDeliveryWorkflow.run,
        notices,
        id=delivery_workflow_id(notices),
        task_queue=task_queue,
    )
    await handle.result()
    history = await handle.fetch_history()
    # Deterministic: today's code replays what it recorded.
    await Replayer(workflows=[NoticeDeliveryWorkflow]).replay_workflow(history)
    return history


def state(engine: Engine, notice: Notice) -> NoticeDelivery:
    found = delivery_of(engine, notice.id)
    assert found is not None
    return found


def started(history: WorkflowHistory) -> list[HistoryEvent]:
    return [e for e in history.events if e.HasField("activity_task_started_event_attributes")]


async def test_a_404_fails_the_notice_after_one_attempt_and_the_delivery_ends(
    time_skipping_env: WorkflowEnvironment, sqlite_engine: Engine
) -> None:
    [notice] = await notices(time_skipping_env)
    with WebhookReceiver([404]) as receiver:
        async with delivering(time_skipping_env, sqlite_engine, receiver) as queue:
            history = await deliver(time_skipping_env.client, queue, [notice])

    assert len(receiver.deliveries) == 1
    failed = state(sqlite_engine, notice)
    assert (failed.status, failed.attempts, failed.last_error) == (
        DeliveryStatus.FAILED,
        1,
        f"webhook {receiver.url} answered 404",
    )
    # The activity completed (one post: nothing retried), so nothing waits on it.
    assert any(e.HasField("activity_task_completed_event_attributes") for e in history.events)


async def test_500_500_200_is_delivered_on_the_third_attempt(
    time_skipping_env: WorkflowEnvironment, sqlite_engine: Engine
) -> None:
    [notice] = await notices(time_skipping_env)
    with WebhookReceiver([500, 500, 200]) as receiver:
        async with delivering(time_skipping_env, sqlite_engine, receiver) as queue:
            history = await deliver(time_skipping_env.client, queue, [notice])

    assert [d.body["id"] for d in receiver.deliveries] == [notice.id] * 3
    delivered = state(sqlite_engine, notice)
    assert (delivered.status, delivered.attempts) == (DeliveryStatus.DELIVERED, 3)
    assert delivered.delivered_at is not None
    assert delivered.last_error == f"webhook {receiver.url} answered 500"
    # Temporal retried the activity (each attempt posts once); the time-skipping
    # server may add a timed-out attempt of its own, so at least three.
    [start] = started(history)
    assert start.activity_task_started_event_attributes.attempt >= 3


async def test_429_with_retry_after_asks_temporal_for_that_delay(
    dev_env: WorkflowEnvironment, sqlite_engine: Engine
) -> None:
    # On the dev server: the time-skipping one neither honours nor records a
    # failure's next_retry_delay. The wait is real, hence a short one.
    [notice] = await notices(dev_env)
    with WebhookReceiver([(429, {"Retry-After": "2"})]) as receiver:
        async with delivering(dev_env, sqlite_engine, receiver) as queue:
            history = await deliver(dev_env.client, queue, [notice])

    assert len(receiver.deliveries) == 2
    assert state(sqlite_engine, notice).status is DeliveryStatus.DELIVERED
    [start] = started(history)
    attributes = start.activity_task_started_event_attributes
    # The second attempt carries the first one's failure: the delay it asked for.
    assert attributes.attempt == 2
    failure = attributes.last_failure.application_failure_info
    assert failure.next_retry_delay.ToTimedelta() == timedelta(seconds=2)
    assert "answered 429" in attributes.last_failure.message


async def test_a_receiver_down_for_longer_than_the_window_fails_the_notice(
    time_skipping_env: WorkflowEnvironment, sqlite_engine: Engine
) -> None:
    [notice] = await notices(time_skipping_env)
    with WebhookReceiver([503] * 100) as receiver:
        async with delivering(time_skipping_env, sqlite_engine, receiver) as queue:
            await deliver(time_skipping_env.client, queue, [notice])

    failed = state(sqlite_engine, notice)
    assert failed.status is DeliveryStatus.FAILED
    assert failed.last_error == (
        f"webhook {receiver.url} answered 503; gave up: the 300 s delivery window ran out"
    )
    # Exponential back-off (1, 2, 4, ... s on the server's clock): about ten
    # attempts in 300 s, not one a second; the one after the window gives up
    # without posting.
    assert failed.attempts == len(receiver.deliveries)
    assert 3 <= failed.attempts <= 12


async def test_a_batch_goes_out_in_order_and_a_refused_notice_does_not_stop_it(
    time_skipping_env: WorkflowEnvironment, sqlite_engine: Engine
) -> None:
    batch = await notices(time_skipping_env, 3)
    with WebhookReceiver([204, 410, 500, 204]) as receiver:
        async with delivering(time_skipping_env, sqlite_engine, receiver) as queue:
            await deliver(time_skipping_env.client, queue, batch)

    first, second, third = batch
    assert [d.body["id"] for d in receiver.deliveries] == [
        first.id,
        second.id,
        third.id,
        third.id,
    ]
    assert [(state(sqlite_engine, n).status, state(sqlite_engine, n).attempts) for n in batch] == [
        (DeliveryStatus.DELIVERED, 1),
        (DeliveryStatus.FAILED, 1),
        (DeliveryStatus.DELIVERED, 2),
    ]


async def test_a_long_batch_continues_as_new_and_delivers_every_notice(
    time_skipping_env: WorkflowEnvironment, sqlite_engine: Engine
) -> None:
    batch = await notices(time_skipping_env, BATCH_PER_RUN + 3)
    with WebhookReceiver() as receiver:
        async with delivering(time_skipping_env, sqlite_engine, receiver) as queue:
            history = await deliver(time_skipping_env.client, queue, batch)

    assert [d.body["id"] for d in receiver.deliveries] == [n.id for n in batch]
    assert {state(sqlite_engine, n).status for n in batch} == {DeliveryStatus.DELIVERED}
    # The last run's history holds only the notices left after the first run.
    assert len(started(history)) == 3


async def test_a_case_whose_receiver_answers_404_still_closes(
    time_skipping_env: WorkflowEnvironment, sqlite_engine: Engine
) -> None:
    # Issue 8 item 6, on the case's own notice path (a case that delivers from
    # its outbox with unlimited retries, as every case started so far does):
    # the 404 is final, the activity completes and the case's workflow ends.
    with WebhookReceiver([404] * 10) as receiver:
        async with delivering(time_skipping_env, sqlite_engine, receiver) as queue:
            desk = Harness(time_skipping_env.client, queue, sqlite_engine)
            handle = await desk.file()
            await dispatch_to(handle, GRID)
            await act(handle, Action.ACCEPT, AcceptInput(actor=unit(GRID)))
            await act(handle, Action.SUPERVISE, SuperviseInput(actor=DISPATCHER, note="督办"))
            await act(handle, Action.WITHDRAW, WithdrawInput(actor=HOTLINE, reason="已解决"))
            result = await asyncio.wait_for(handle.result(), timeout=60)
            await desk.settle()  # the notice goes out in a delivery of its own

    [supervision] = list_notices(sqlite_engine, case_id=result.case_id)[0]
    failed = state(sqlite_engine, supervision)
    assert (failed.status, failed.attempts) == (DeliveryStatus.FAILED, 1)
    assert [d.body["id"] for d in receiver.deliveries] == [supervision.id]


def test_a_delivery_is_named_after_its_first_notice() -> None:
    batch = NoticeBatch(notices=[make_notice("grievance-X:7:a"), make_notice("grievance-X:7:b")])
    assert delivery_workflow_id(batch) == "notices-grievance-X:7:a"
    with pytest.raises(ValueError, match="empty"):
        delivery_workflow_id(NoticeBatch(notices=[]))


failing_ids: set[str] = set()
sent: list[str] = []


@activity.defn(name=ActivityName.SEND_NOTICE.value)
def stand_in_send_notice(notice: Notice) -> None:
    """Fails for good for the notices in ``failing_ids``, records the others."""
    if notice.id in failing_ids:
        raise ApplicationError("the channel is broken", non_retryable=True)
    sent.append(notice.id)


async def test_an_activity_error_on_one_notice_does_not_stop_the_others(
    time_skipping_env: WorkflowEnvironment, caplog: pytest.LogCaptureFixture
) -> None:
    batch = await notices(time_skipping_env, 3)
    failing_ids.add(batch[0].id)
    task_queue = f"notices-{uuid.uuid4()}"
    with ThreadPoolExecutor(max_workers=2) as executor:
        async with Worker(
            time_skipping_env.client,
            task_queue=task_queue,
            workflows=[NoticeDeliveryWorkflow],
            activities=[stand_in_send_notice],
            activity_executor=executor,
        ):
            await deliver(time_skipping_env.client, task_queue, batch)

    assert sent[-2:] == [batch[1].id, batch[2].id]
    [warning] = [r for r in caplog.records if "not delivered" in r.getMessage()]
    # Which notice, and the kind of failure; not what it said.
    assert batch[0].id in warning.getMessage()
    assert "broken" not in warning.getMessage()
