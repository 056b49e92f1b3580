"""The hand-over: in-process channels deliver at once; anything else gets a delivery workflow.

Run in an ``ActivityEnvironment`` with the dev server's real client (not the
time-skipping one: a workflow task no worker takes would hold its clock still),
so a delivery workflow it starts really exists (nobody polls its queue: the
tests end it).
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, event
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from grievance_flow.activities.handover import DELIVERED_HERE_PREFIX, NoticeHandover
from grievance_flow.activities.notices import NoticeActivities
from grievance_flow.notify import DeliveryError, LogChannel, Notifier, WebhookChannel
from grievance_flow.store.notices import DeliveryStatus, delivery_of, record_notice
from grievance_flow.store.projection_writer import ProjectionWriter
from grievance_flow.workflows.contracts import Notice, NoticeBatch
from tests.store.factories import make_notice

NOW = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


class FailsOn:
    """An in-process channel that refuses the notices it is told to."""

    in_process = True

    def __init__(self, refused: set[str]) -> None:
        self.refused = refused

    def deliver(self, notice: Notice) -> None:
        if notice.id in self.refused:
            raise DeliveryError("the console is full")


def batch_of(count: int) -> list[Notice]:
    case_id = f"grievance-H-{uuid.uuid4().hex[:10]}"
    return [make_notice(f"{case_id}:{seq}", case_id=case_id, at=NOW) for seq in range(1, count + 1)]


async def hand_over(client: Client, notifier: Notifier, engine: Engine, batch: list[Notice]) -> str:
    activities = NoticeActivities(engine, notifier, clock=lambda: NOW)
    handover = NoticeHandover(client, activities)
    answer: str = await ActivityEnvironment().run(
        handover.hand_over_notices, NoticeBatch(notices=batch)
    )
    return answer


async def delivery_exists(client: Client, workflow_id: str) -> bool:
    try:
        await client.get_workflow_handle(workflow_id).describe()
    except RPCError as err:
        assert err.status is RPCStatusCode.NOT_FOUND
        return False
    await client.get_workflow_handle(workflow_id).terminate("test over")
    return True


def status(engine: Engine, notice: Notice) -> tuple[DeliveryStatus, int] | None:
    found = delivery_of(engine, notice.id)
    return None if found is None else (found.status, found.attempts)


async def test_log_only_notices_are_delivered_here_without_a_workflow(
    dev_env: WorkflowEnvironment, sqlite_engine: Engine
) -> None:
    batch = batch_of(2)
    client = dev_env.client
    answer = await hand_over(client, Notifier([LogChannel()]), sqlite_engine, batch)

    assert answer == f"{DELIVERED_HERE_PREFIX}{batch[0].id}"
    for notice in batch:
        found = delivery_of(sqlite_engine, notice.id)
        assert found is not None and found.notice == notice
        assert (found.status, found.attempts, found.delivered_at) == (
            DeliveryStatus.DELIVERED,
            1,
            NOW,
        )
    assert not await delivery_exists(client, f"notices-{batch[0].id}")


async def test_a_retried_hand_over_marks_a_stored_notice_delivered_once(
    dev_env: WorkflowEnvironment, sqlite_engine: Engine
) -> None:
    batch = batch_of(1)
    record_notice(sqlite_engine, batch[0])  # a first attempt stored it, then died
    await hand_over(dev_env.client, Notifier([LogChannel()]), sqlite_engine, batch)
    assert status(sqlite_engine, batch[0]) == (DeliveryStatus.DELIVERED, 1)
    await hand_over(dev_env.client, Notifier([LogChannel()]), sqlite_engine, batch)
    assert status(sqlite_engine, batch[0]) == (DeliveryStatus.DELIVERED, 1)


async def test_an_in_process_failure_hands_the_rest_to_a_delivery_workflow(
    dev_env: WorkflowEnvironment, sqlite_engine: Engine
) -> None:
    first, second, third = batch_of(3)
    notifier = Notifier([LogChannel(), FailsOn({second.id})])
    client = dev_env.client
    answer = await hand_over(client, notifier, sqlite_engine, [first, second, third])

    assert answer == f"notices-{second.id}"
    assert status(sqlite_engine, first) == (DeliveryStatus.DELIVERED, 1)
    # Left to the delivery workflow, which records and retries them.
    assert status(sqlite_engine, second) is None and status(sqlite_engine, third) is None
    description = await client.get_workflow_handle(answer).describe()
    assert description.workflow_type == "NoticeDelivery"
    assert await delivery_exists(client, answer)


@pytest.mark.parametrize("with_notices", [True, False])
async def test_a_webhook_always_gets_a_delivery_workflow(
    dev_env: WorkflowEnvironment, sqlite_engine: Engine, with_notices: bool
) -> None:
    batch = batch_of(2)
    client = dev_env.client
    notifier = Notifier([LogChannel(), WebhookChannel("http://127.0.0.1:9/hook")])
    activities = NoticeActivities(sqlite_engine, notifier) if with_notices else None
    answer = await ActivityEnvironment().run(
        NoticeHandover(client, activities).hand_over_notices, NoticeBatch(notices=batch)
    )

    assert answer == f"notices-{batch[0].id}"
    assert status(sqlite_engine, batch[0]) is None
    assert await delivery_exists(client, answer)


async def test_notices_delivered_here_are_recorded_by_the_workers_one_writer(
    dev_env: WorkflowEnvironment, sqlite_engine: Engine
) -> None:
    # A second writing connection waited on the SQLite write lock that the
    # projection writer holds nearly all the time under load (README, "SLA
    # clocks under load"): the notice rows must go through that same thread.
    writing_threads: list[str] = []

    def note_thread(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO NOTICES"):
            writing_threads.append(threading.current_thread().name)

    event.listen(sqlite_engine, "before_cursor_execute", note_thread)
    try:
        writer = ProjectionWriter(sqlite_engine)
        activities = NoticeActivities(
            sqlite_engine, Notifier([LogChannel()]), clock=lambda: NOW, writer=writer
        )
        batch = batch_of(2)
        answer = await ActivityEnvironment().run(
            NoticeHandover(dev_env.client, activities).hand_over_notices,
            NoticeBatch(notices=batch),
        )
        writer.close()
    finally:
        event.remove(sqlite_engine, "before_cursor_execute", note_thread)

    assert answer == f"{DELIVERED_HERE_PREFIX}{batch[0].id}"
    assert writing_threads == ["projection-writer", "projection-writer"]
    assert [status(sqlite_engine, notice) for notice in batch] == [
        (DeliveryStatus.DELIVERED, 1)
    ] * 2


async def test_a_record_that_fails_hands_the_whole_batch_on(
    dev_env: WorkflowEnvironment, sqlite_engine: Engine
) -> None:
    writer = ProjectionWriter(sqlite_engine)
    writer.close()  # a closed writer refuses every write
    activities = NoticeActivities(
        sqlite_engine, Notifier([LogChannel()]), clock=lambda: NOW, writer=writer
    )
    batch = batch_of(2)
    answer = await ActivityEnvironment().run(
        NoticeHandover(dev_env.client, activities).hand_over_notices, NoticeBatch(notices=batch)
    )
    assert answer == f"notices-{batch[0].id}"
    assert [status(sqlite_engine, notice) for notice in batch] == [None, None]
    assert await delivery_exists(dev_env.client, answer)
