"""The archive Schedule, created idempotently by ``up`` (and the compose set-up)."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)

from grievance_flow.archive.contracts import ARCHIVE_WORKFLOW, SCHEDULE_ID, ArchiveRequest

EVERY = timedelta(minutes=10)


async def ensure_archive_schedule(
    client: Client, *, task_queue: str, every: timedelta = EVERY, schedule_id: str = SCHEDULE_ID
) -> bool:
    """Create the Schedule unless it exists; True if this call created it.

    Runs never overlap (a slow run is not joined by the next), and a missed
    run is not made up for: the next one catches up from the watermark.
    """
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            ARCHIVE_WORKFLOW,
            ArchiveRequest(task_queue=task_queue),
            id=schedule_id,
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    try:
        await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:
        return False
    return True
