"""A case whose first workflow task was lost rebuilds to exactly the rows it projected.

Seen in the fault suite (benchmarks/faults.py): a worker killed while it ran a case's first workflow
task. On the retried task the SDK completes the task before it resolves the
classifier's local activity, and hands the result over in the next task, so
the live run read ``workflow.now()`` as that task's start, while a replay reads
the local activity's recorded completion time. Events recorded after the
lookup then carried two different times: the read model and its rebuild
differed by some milliseconds. Which way the SDK goes depends on timing, so
the test also checks the rule that makes both agree: what a lookup changes
is recorded at the time it was asked for (patch ``lookups-keep-task-time``).
"""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import (
    PollWorkflowTaskQueueRequest,
)
from temporalio.testing import WorkflowEnvironment

from grievance_flow.audit.timeline import projections_of
from grievance_flow.runtime import load_domain
from grievance_flow.store import queries
from grievance_flow.store.engine import make_engine, migrate, sqlite_url_for
from grievance_flow.store.models import CaseRecord, EventRecord
from grievance_flow.store.projection import project_case, version_of
from grievance_flow.worker import ACTIVITY_THREADS, build_worker
from grievance_flow.workflows.grievance import GrievanceWorkflow
from tests.builders import intake


async def lose_first_task(env: WorkflowEnvironment, task_queue: str) -> None:
    """Take the case's first workflow task as a worker would, then fail it (a dying worker)."""
    service = env.client.workflow_service
    polled = await service.poll_workflow_task_queue(
        PollWorkflowTaskQueueRequest(
            namespace=env.client.namespace,
            task_queue=TaskQueue(name=task_queue),
            identity="a worker about to be killed",
        )
    )
    assert polled.task_token  # and never answered: the task times out


def rows(engine: Engine, case_id: str) -> tuple[Any, list[Any]]:
    with engine.connect() as connection:
        case = connection.execute(
            select(CaseRecord.__table__).where(CaseRecord.__table__.c.id == case_id)  # type: ignore[attr-defined]
        ).one()
        events = connection.execute(
            select(EventRecord.__table__)  # type: ignore[attr-defined]
            .where(EventRecord.__table__.c.case_id == case_id)  # type: ignore[attr-defined]
            .order_by(EventRecord.__table__.c.seq)  # type: ignore[attr-defined]
        ).all()
    return tuple(case), [tuple(event) for event in events]


async def projected(engine: Engine, case_id: str, *, last_seq: int) -> None:
    """Wait until the read model has the case up to ``last_seq``."""
    for _ in range(300):
        stored = await asyncio.to_thread(queries.get_case, engine, case_id)
        if stored is not None and stored.last_seq >= last_seq:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{case_id} was never projected up to {last_seq}")


async def test_rebuild_after_a_lost_first_task_is_identical(
    dev_env: WorkflowEnvironment, sqlite_engine: Engine, tmp_path: Path
) -> None:
    task_queue = f"test-{uuid.uuid4()}"
    grievance = intake()
    handle = await dev_env.client.start_workflow(
        GrievanceWorkflow.run, grievance, id=grievance.case_id, task_queue=task_queue
    )
    await lose_first_task(dev_env, task_queue)
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        worker = build_worker(
            dev_env.client,
            domain=load_domain(None),
            engine=sqlite_engine,
            task_queue=task_queue,
            executor=executor,
        )
        async with worker:
            await projected(sqlite_engine, handle.id, last_seq=2)

    history = await handle.fetch_history()
    attempts = [
        event.workflow_task_scheduled_event_attributes.attempt
        for event in history.events
        if event.HasField("workflow_task_scheduled_event_attributes")
    ]
    assert attempts[:2] == [1, 2], "the first task was not lost and retried"
    (tmp_path / "rebuilt").mkdir()
    rebuilt = make_engine(sqlite_url_for(tmp_path / "rebuilt"))
    migrate(rebuilt)
    for projection in await projections_of(history):
        await asyncio.to_thread(
            project_case,
            rebuilt,
            projection.case,
            projection.events,
            version=version_of(projection.task_started_at),
        )
    try:
        live = rows(sqlite_engine, handle.id)
        assert rows(rebuilt, handle.id) == live
        # The suggestion is recorded at the time it was asked for, the filing's
        # task start: what a live run and a replay both read, however the
        # classifier's result reached the workflow.
        reported, suggested = live[1][:2]
        assert suggested[2] == "suggested"
        assert suggested[3] == reported[3]
    finally:
        rebuilt.dispose()
        await handle.terminate("test over")
