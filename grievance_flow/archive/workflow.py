"""ArchiveWorkflow: what the archive Schedule starts; one activity, retried until done."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from grievance_flow.archive.contracts import (
        ARCHIVE_ACTIVITY,
        ARCHIVE_WORKFLOW,
        ArchiveRequest,
        ArchiveResult,
    )


@workflow.defn(name=ARCHIVE_WORKFLOW)
class ArchiveWorkflow:
    """Export every case closed since the last run as a signed bundle (SPEC §12)."""

    @workflow.run
    async def run(self, request: ArchiveRequest) -> ArchiveResult:
        """Run the archive activity once."""
        result: ArchiveResult = await workflow.execute_activity(
            ARCHIVE_ACTIVITY,
            request,
            result_type=ArchiveResult,
            start_to_close_timeout=timedelta(hours=1),
            heartbeat_timeout=timedelta(minutes=2),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
        )
        return result
