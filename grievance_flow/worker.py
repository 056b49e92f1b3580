"""Worker entry point: settings -> client -> Worker(workflows, activities)."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from grievance_flow.activities.classification import ClassificationActivities
from grievance_flow.activities.deadlines import DeadlineActivities
from grievance_flow.activities.escalation import EscalationActivities
from grievance_flow.activities.handover import NoticeHandover
from grievance_flow.activities.notices import NoticeActivities
from grievance_flow.activities.projection import ProjectionActivities
from grievance_flow.notify.channels import LogChannel
from grievance_flow.notify.notifier import Notifier, build_notifier
from grievance_flow.runtime import Domain, connect_temporal, load_domain, open_database
from grievance_flow.settings import Settings
from grievance_flow.workflows.grievance import GrievanceWorkflow
from grievance_flow.workflows.notice_delivery import NoticeDeliveryWorkflow

log = logging.getLogger(__name__)

ACTIVITY_THREADS = 16
"""Activities are synchronous (SQLAlchemy, calendar); they run on this many threads."""

WORKFLOW_CACHE = 10_000
"""Default number of cached open cases (``GRIEVANCE_WORKFLOW_CACHE``)."""


def build_worker(
    client: Client,
    *,
    domain: Domain,
    engine: Engine,
    task_queue: str,
    executor: ThreadPoolExecutor,
    notifier: Notifier | None = None,
    workflow_cache: int = WORKFLOW_CACHE,
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
    """
    classification = ClassificationActivities(domain.catalogue, engine)
    deadlines = DeadlineActivities(domain.catalogue, domain.calendar)
    projection = ProjectionActivities(engine)
    notices = NoticeActivities(engine, notifier or Notifier([LogChannel()]))
    escalation = EscalationActivities(domain.catalogue)
    handover = NoticeHandover(client)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[GrievanceWorkflow, NoticeDeliveryWorkflow],
        activities=[
            classification.suggest_category,
            deadlines.compute_deadline,
            deadlines.extend_deadline,
            escalation.escalation_target,
            projection.project_case,
            notices.send_notice,
            handover.hand_over_notices,
        ],
        activity_executor=executor,
        max_concurrent_activities=ACTIVITY_THREADS,
        # A case outside the cache is replayed from its whole history on its next
        # task (a timer firing, an action). Measured (benchmarks/clocks.py): about
        # 190 KiB per cached case, and escalations under load fire far closer to
        # plan with every open case cached than with the SDK default of 1,000.
        max_cached_workflows=workflow_cache,
        # Let an in-flight projection finish on shutdown rather than be cancelled
        # (it would be retried anyway; this just avoids the noise and the delay).
        graceful_shutdown_timeout=timedelta(seconds=10),
    )


async def run_worker(settings: Settings, *, stop: asyncio.Event) -> None:
    """Run a worker against ``TEMPORAL_ADDRESS`` and ``DATABASE_URL`` until ``stop`` is set."""
    domain = load_domain(settings.catalogue, settings.calendar_overrides)
    notifier = build_notifier(settings)
    engine = open_database(settings)
    client = await connect_temporal(settings)
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        worker = build_worker(
            client,
            domain=domain,
            engine=engine,
            task_queue=settings.task_queue,
            executor=executor,
            notifier=notifier,
            workflow_cache=settings.workflow_cache,
        )
        async with worker:
            log.info("worker polling %s on %s", settings.task_queue, settings.temporal_address)
            await stop.wait()
    engine.dispose()
