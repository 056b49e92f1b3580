"""The archive activity: list closed cases since the watermark, bundle each, write it once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from temporalio import activity
from temporalio.client import WorkflowExecutionStatus
from temporalio.exceptions import ApplicationError

from grievance_flow.archive.contracts import ARCHIVE_ACTIVITY, ArchiveRequest, ArchiveResult
from grievance_flow.archive.layout import (
    bundle_path,
    read_watermark,
    write_bundle,
    write_watermark,
)
from grievance_flow.audit.bundle import make_bundle
from grievance_flow.audit.signing import SigningKey

OVERLAP = timedelta(minutes=10)
"""How far before the watermark each run looks again: visibility may list a
case closed just before the last run only after it. Bundles are written
once, so looking twice costs a lookup, never a duplicate."""


class ArchiveActivities:
    """Writes bundles signed by ``key`` under ``root``; without a key, refuses clearly."""

    def __init__(self, root: Path, key: SigningKey | None, tz: ZoneInfo) -> None:
        self._root = root
        self._key = key
        self._tz = tz

    @property
    def signs(self) -> bool:
        """Whether this worker holds the audit key, so its archive runs can succeed."""
        return self._key is not None

    @activity.defn(name=ARCHIVE_ACTIVITY)
    async def archive_closed_cases(self, request: ArchiveRequest) -> ArchiveResult:
        """Archive every closed case of the queue not archived yet; heartbeat per case."""
        if self._key is None:
            raise ApplicationError(
                "this worker has no audit key (GRIEVANCE_AUDIT_KEY or DIR/audit-key.pem): "
                "it cannot sign archive bundles",
                type="NoAuditKey",
                non_retryable=True,
            )
        self._root.mkdir(parents=True, exist_ok=True)
        client = activity.client()
        started = datetime.now(UTC)
        since = read_watermark(self._root)
        query = (
            f"WorkflowType = 'GrievanceWorkflow' AND ExecutionStatus = 'Completed' "
            f"AND TaskQueue = '{request.task_queue}'"
        )
        if since is not None:
            query += f" AND CloseTime >= '{(since - OVERLAP).isoformat()}'"
        result = ArchiveResult()
        async for execution in client.list_workflows(query):
            if execution.status is not WorkflowExecutionStatus.COMPLETED:
                continue
            closed_at = execution.close_time or started
            path = bundle_path(self._root, execution.id, closed_at, self._tz)
            if path.exists():
                result.already += 1
                continue
            handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
            history = await handle.fetch_history()
            text = make_bundle(
                history.to_json_dict(),
                case_id=execution.id,
                run_id=execution.run_id,
                exported_at=datetime.now(UTC),
                key=self._key,
            )
            if write_bundle(path, text):
                result.archived += 1
            else:
                result.already += 1
            activity.heartbeat(result.archived + result.already)
        write_watermark(self._root, started)
        result.until = started.isoformat()
        return result
