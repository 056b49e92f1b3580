"""The archive Schedule end to end on the dev server: bundles by month, never twice,
and evidence that outlives the case's deletion from Temporal (SPEC §12).

Temporal drops a closed case when the namespace's retention ends; here the case
is deleted from Temporal outright (what retention does, without waiting a day,
the dev server's shortest retention) and its archived bundle still verifies and
replays.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import (
    Client,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionResult,
    ScheduleHandle,
)
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from grievance_flow.archive.activities import ArchiveActivities
from grievance_flow.archive.contracts import ArchiveResult
from grievance_flow.archive.layout import bundle_path
from grievance_flow.archive.schedule import ensure_archive_schedule
from grievance_flow.audit.signing import SigningKey, ensure_signing_key
from grievance_flow.runtime import load_domain
from grievance_flow.worker import ACTIVITY_THREADS, build_worker
from tests.audit.conftest import close_resolved, grievance
from tests.workflows.harness import Harness

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class Archive:
    client: Client
    harness: Harness
    root: Path
    key: SigningKey
    schedule: ScheduleHandle
    schedule_id: str


@pytest.fixture
async def archive(
    dev_env: WorkflowEnvironment, sqlite_engine: Engine, tmp_path: Path
) -> AsyncIterator[Archive]:
    task_queue = f"archive-{uuid.uuid4()}"
    root = tmp_path / "archive"
    key = ensure_signing_key(tmp_path / "audit-key.pem")
    domain = load_domain(None)
    schedule_id = f"grievance-archive-{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        worker = build_worker(
            dev_env.client,
            domain=domain,
            engine=sqlite_engine,
            task_queue=task_queue,
            executor=executor,
            archive=ArchiveActivities(root, key, SHANGHAI),
        )
        async with worker:
            assert await ensure_archive_schedule(
                dev_env.client, task_queue=task_queue, schedule_id=schedule_id
            )
            # Idempotent: a second `up` (or the compose set-up) leaves it as it is.
            assert not await ensure_archive_schedule(
                dev_env.client, task_queue=task_queue, schedule_id=schedule_id
            )
            schedule = dev_env.client.get_schedule_handle(schedule_id)
            harness = Harness(dev_env.client, task_queue, sqlite_engine)
            try:
                yield Archive(dev_env.client, harness, root, key, schedule, schedule_id)
            finally:
                await harness.settle()
                await schedule.delete()


def _runs(actions: Sequence[ScheduleActionResult]) -> list[tuple[str, str]]:
    """(workflow id, run id) of each run a Schedule started."""
    started = [a.action for a in actions]
    return [
        (run.workflow_id, run.first_execution_run_id)
        for run in started
        if isinstance(run, ScheduleActionExecutionStartWorkflow)
    ]


async def run_once(archive: Archive) -> ArchiveResult:
    """Trigger the Schedule and wait for that run's result."""
    before = set(_runs((await archive.schedule.describe()).info.recent_actions))
    await archive.schedule.trigger()
    for _ in range(300):
        new = [
            run
            for run in _runs((await archive.schedule.describe()).info.recent_actions)
            if run not in before
        ]
        if new:
            workflow_id, run_id = new[-1]
            handle = archive.client.get_workflow_handle(
                workflow_id, run_id=run_id, result_type=ArchiveResult
            )
            result: ArchiveResult = await handle.result()
            return result
        await asyncio.sleep(0.1)
    raise AssertionError("the Schedule never started a run")


async def test_closed_cases_are_archived_once_and_outlive_temporal(
    archive: Archive, tmp_path: Path
) -> None:
    first, second = await archive.harness.file(), await archive.harness.file()
    open_case = await archive.harness.file()
    await close_resolved(first)
    await close_resolved(second)

    done = await run_once(archive)
    assert (done.archived, done.already) == (2, 0)
    files = sorted(archive.root.rglob("*.json"))
    described = await first.describe()
    assert described.close_time is not None
    expected = bundle_path(archive.root, first.id, described.close_time, SHANGHAI)
    assert expected in files and len(files) == 2
    assert expected.parent.name == described.close_time.astimezone(SHANGHAI).strftime("%Y-%m")
    assert not any(open_case.id in file.name for file in files)
    written = {file: file.read_bytes() for file in files}

    # Again: nothing new, nothing rewritten.
    again = await run_once(archive)
    assert again.archived == 0 and again.already == 2
    assert {file: file.read_bytes() for file in archive.root.rglob("*.json")} == written

    # Temporal forgets the first case, as retention would make it.
    archive.harness.filed.remove(first)  # nothing left of it for the harness to settle
    await archive.client.workflow_service.delete_workflow_execution(
        DeleteWorkflowExecutionRequest(
            namespace=archive.client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=first.id),
        )
    )
    for _ in range(240):  # the server deletes in a background task
        try:
            await archive.client.get_workflow_handle(first.id).describe()
        except RPCError:
            break
        await asyncio.sleep(0.25)
    else:
        raise AssertionError("the case was not deleted from Temporal")

    # The archive still proves it: verify (signature, then replay) and replay.
    public = tmp_path / "audit.pub.pem"
    public.write_text(archive.key.verifying.pem())
    verified = await grievance("audit", "verify", str(archive.root), "--public-key", str(public))
    assert verified.code == 0, verified.describe()
    assert len(verified.lines) == 2 and all(line.startswith("OK ") for line in verified.lines)
    replayed = await grievance("audit", "replay", str(archive.root))
    assert replayed.code == 0, replayed.describe()
    assert f"OK   {expected} ({first.id})" in replayed.lines


async def test_a_worker_without_an_audit_key_says_so(
    dev_env: WorkflowEnvironment, sqlite_engine: Engine, tmp_path: Path
) -> None:
    from temporalio.client import WorkflowFailureError

    from grievance_flow.archive.contracts import ArchiveRequest
    from grievance_flow.archive.workflow import ArchiveWorkflow

    task_queue = f"archive-{uuid.uuid4()}"
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        worker = build_worker(
            dev_env.client,
            domain=load_domain(None),
            engine=sqlite_engine,
            task_queue=task_queue,
            executor=executor,
        )
        async with worker:
            with pytest.raises(WorkflowFailureError) as caught:
                await dev_env.client.execute_workflow(
                    ArchiveWorkflow.run,
                    ArchiveRequest(task_queue=task_queue),
                    id=f"archive-{uuid.uuid4()}",
                    task_queue=task_queue,
                )
    activity_failure = caught.value.cause
    assert activity_failure is not None and "no audit key" in str(activity_failure.__cause__)
