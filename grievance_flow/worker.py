"""Worker entry point: settings -> client -> Worker(workflows, activities)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from grievance_flow.activities.classification import ClassificationActivities
from grievance_flow.activities.deadlines import DeadlineActivities
from grievance_flow.activities.escalation import EscalationActivities
from grievance_flow.activities.handover import NoticeHandover
from grievance_flow.activities.notices import NoticeActivities
from grievance_flow.activities.projection import ProjectionActivities
from grievance_flow.activities.webhooks import WebhookDrain
from grievance_flow.archive.activities import ArchiveActivities
from grievance_flow.archive.layout import ARCHIVE_FOLDER
from grievance_flow.archive.schedule import ensure_archive_schedule
from grievance_flow.archive.workflow import ArchiveWorkflow
from grievance_flow.audit.signing import audit_key_path, read_signing_key
from grievance_flow.heap import freeze_start_up
from grievance_flow.notify.channels import LogChannel
from grievance_flow.notify.notifier import Notifier, build_notifier
from grievance_flow.runtime import Domain, connect_temporal, load_domain, open_database
from grievance_flow.settings import Settings
from grievance_flow.store.projection_writer import ProjectionWriter
from grievance_flow.telemetry import install_runtime
from grievance_flow.workflows.grievance import GrievanceWorkflow
from grievance_flow.workflows.notice_delivery import NoticeDeliveryWorkflow
from grievance_flow.workflows.webhook_delivery import WebhookSubscriberWorkflow

log = logging.getLogger(__name__)

ACTIVITY_THREADS = 16
"""Activities are synchronous (SQLAlchemy, calendar); they run on this many threads."""

WORKFLOW_CACHE = 3_500
"""Default number of cached open cases (``GRIEVANCE_WORKFLOW_CACHE``).

About 150 KiB each once filed (``benchmarks/case_memory.py``) and up to about
200 KiB once its clocks have fired; 20,000 open cases through this cache
peaked at 876 MiB (``benchmarks/clocks.py``), under issue 10's 1 GB a worker.
A case outside it is replayed when its next task comes.
"""


def build_worker(
    client: Client,
    *,
    domain: Domain,
    engine: Engine,
    task_queue: str,
    executor: ThreadPoolExecutor,
    notifier: Notifier | None = None,
    workflow_cache: int = WORKFLOW_CACHE,
    sandboxed: bool = True,
    webhooks: WebhookDrain | None = None,
    archive: ArchiveActivities | None = None,
) -> Worker:
    """A worker that runs grievance workflows and their activities on ``task_queue``.

    Args:
        client: The process's Temporal client.
        domain: The catalogue and calendar the activities use.
        engine: The read model the projection and notice activities write.
        task_queue: The queue to poll.
        executor: Threads for the (synchronous) activities.
        notifier: Where notices go; by default only to the log.
        workflow_cache: How many open cases stay in memory between workflow tasks.
        webhooks: How subscribers' outboxes are drained (SPEC §10); by default
            with a 24-hour window and 10-second attempts.
        archive: Where the archive Schedule's runs write signed bundles, with the
            key that signs them; by default none (a run on this worker fails,
            saying so).
        sandboxed: Run workflow code in Temporal's sandbox. True (the default)
            for tests, where it catches a non-deterministic call; a worker
            process follows ``GRIEVANCE_WORKFLOW_SANDBOX`` (see ``runner_for``).
    """
    classification = ClassificationActivities(domain.catalogue, engine)
    deadlines = DeadlineActivities(domain.catalogue, domain.calendar)
    # One writer thread for every read-model write of the worker's activities
    # that a case's workflow task waits on: SQLite has one write lock.
    writer = ProjectionWriter(engine)
    projection = ProjectionActivities(engine, writer)
    notices = NoticeActivities(engine, notifier or Notifier([LogChannel()]), writer=writer)
    escalation = EscalationActivities(domain.catalogue)
    handover = NoticeHandover(client, notices)
    drain = webhooks or WebhookDrain(engine)
    archiver = archive or ArchiveActivities(Path("archive"), None, domain.catalogue.timezone_info)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[
            GrievanceWorkflow,
            NoticeDeliveryWorkflow,
            WebhookSubscriberWorkflow,
            ArchiveWorkflow,
        ],
        activities=[
            classification.suggest_category,
            deadlines.compute_deadline,
            deadlines.extend_deadline,
            escalation.escalation_target,
            projection.project_case,
            notices.send_notice,
            handover.hand_over_notices,
            drain.drain_webhooks,
            archiver.archive_closed_cases,
        ],
        activity_executor=executor,
        max_concurrent_activities=ACTIVITY_THREADS,
        # A case outside the cache is replayed from its whole history on its next
        # task (a timer firing, an action): CPU, where a cached case costs memory
        # (benchmarks/case_memory.py, benchmarks/clocks.py; README, "SLA clocks
        # under load").
        max_cached_workflows=workflow_cache,
        # Let an in-flight projection finish on shutdown rather than be cancelled
        # (it would be retried anyway; this just avoids the noise and the delay).
        graceful_shutdown_timeout=timedelta(seconds=10),
        workflow_runner=runner_for(sandboxed=sandboxed),
    )


def archive_for(settings: Settings, domain: Domain) -> ArchiveActivities:
    """The archive of ``settings``: ``GRIEVANCE_ARCHIVE_DIR`` (default ``DIR/archive``),
    signed with the audit key if this process has it."""
    key_path = audit_key_path(settings.audit_key, settings.data_dir)
    key = read_signing_key(key_path) if key_path.exists() else None
    root = settings.archive_dir or settings.data_dir / ARCHIVE_FOLDER
    return ArchiveActivities(root, key, domain.catalogue.timezone_info)


def runner_for(*, sandboxed: bool) -> WorkflowRunner:
    """Temporal's sandbox, or the plain runner.

    The sandbox re-imports the workflow modules for every case it loads and
    wraps every activation in its import and builtins guards: measured with
    ``benchmarks/lifecycle.py``, about a quarter of a worker's CPU (README,
    "Performance"). What it guards against is code that is not deterministic;
    the test suite runs every workflow under it (``build_worker``'s default),
    the recorded histories replay in it, and the workflow modules keep no
    module state, so a worker process may run without it.
    """
    if sandboxed:
        return SandboxedWorkflowRunner()
    return UnsandboxedWorkflowRunner()


class WorkerStoppedError(RuntimeError):
    """The worker's run task ended although nobody asked it to stop."""


class RunningWorker:
    """A started worker: the :class:`Worker` and the task that runs it.

    Made by :func:`running_worker`; :meth:`failed` lets a supervisor notice a
    worker that died, which ``async with Worker`` alone would only report by
    cancelling whatever task entered it.
    """

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self._task = asyncio.create_task(worker.run(), name="grievance-worker")
        self._stopping = False

    async def failed(self) -> None:
        """Wait until the worker ends; raise why, unless :meth:`stop` ended it.

        Raises:
            WorkerStoppedError: The run task ended (an error, or none) without :meth:`stop`.
        """
        try:
            # shield: the caller being cancelled must not cancel the worker itself.
            await asyncio.shield(self._task)
        except asyncio.CancelledError:
            if self._task.cancelled():
                raise WorkerStoppedError("the worker was cancelled") from None
            raise
        except Exception as exc:
            raise WorkerStoppedError(f"the worker failed: {exc}") from exc
        if not self._stopping:
            raise WorkerStoppedError("the worker stopped on its own")

    async def stop(self) -> None:
        """Shut the worker down (in-flight activities get the graceful timeout) and reap it."""
        self._stopping = True
        await self.worker.shutdown()
        # Wait for it without raising its outcome: failed() already reported it,
        # or it does not matter on a stop. Reading it keeps asyncio from warning.
        await asyncio.wait([self._task])
        if not self._task.cancelled():
            self._task.exception()


@contextlib.asynccontextmanager
async def running_worker(
    client: Client,
    *,
    domain: Domain,
    engine: Engine,
    settings: Settings,
    notifier: Notifier | None = None,
) -> AsyncIterator[RunningWorker]:
    """Run this process's worker (on its own activity threads) for the ``async with`` block.

    The one place that wires a worker for a process, shared by ``grievance
    worker`` and ``grievance up``. The worker is shut down when the block ends.
    """
    with ThreadPoolExecutor(
        max_workers=ACTIVITY_THREADS, thread_name_prefix="activity"
    ) as executor:
        worker = build_worker(
            client,
            domain=domain,
            engine=engine,
            task_queue=settings.task_queue,
            executor=executor,
            notifier=notifier,
            workflow_cache=settings.workflow_cache,
            sandboxed=settings.workflow_sandbox,
            webhooks=WebhookDrain(
                engine, window=settings.webhook_delivery_window, timeout=settings.webhook_timeout
            ),
            archive=archive_for(settings, domain),
        )
        running = RunningWorker(worker)
        try:
            yield running
        finally:
            await running.stop()


async def run_worker(settings: Settings, *, stop: asyncio.Event) -> None:
    """Run a worker against ``TEMPORAL_ADDRESS`` and ``DATABASE_URL`` until ``stop`` is set.

    With ``GRIEVANCE_METRICS_PORT`` set it also serves Prometheus metrics there
    (:mod:`grievance_flow.telemetry`).

    Raises:
        WorkerStoppedError: The worker died before ``stop`` was set.
        MetricsPortError: The metrics port cannot be served.
    """
    domain = load_domain(settings.catalogue, settings.calendar_overrides)
    notifier = build_notifier(settings)
    # Before the client: it exports through the runtime it is connected with.
    metrics = install_runtime(settings, serve_metrics=True)
    if metrics is not None:
        log.info("worker metrics on http://%s/metrics", metrics)
    engine = open_database(settings)
    client = await connect_temporal(settings)
    if archive_for(settings, domain).signs:
        # Any worker that can sign makes sure the archive Schedule exists (the
        # compose set-up's, a cluster's); `up` does it for its own system.
        await ensure_archive_schedule(client, task_queue=settings.task_queue)
    try:
        async with running_worker(
            client, domain=domain, engine=engine, settings=settings, notifier=notifier
        ) as worker:
            log.info("worker polling %s on %s", settings.task_queue, settings.temporal_address)
            # Built and connected: what exists now lives as long as the process.
            freeze_start_up()
            await _first_of(stop.wait(), worker.failed())
    finally:
        engine.dispose()


async def _first_of(*waits: Coroutine[Any, Any, object]) -> None:
    """Wait until one of ``waits`` ends; re-raise its error, cancel the others."""
    tasks = [asyncio.create_task(wait) for wait in waits]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
    for task in done:
        task.result()
