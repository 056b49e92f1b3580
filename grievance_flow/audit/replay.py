"""Replaying one history against the current workflow code, never raising.

An audit run goes through many histories, some of them damaged or foreign on
purpose; each gets a verdict of its own and the run carries on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from temporalio.client import WorkflowHistory

from grievance_flow.audit.histories import AuditError, check_grievance_history, load_history_file
from grievance_flow.audit.replayer import describe_replay_failure, grievance_replayer


@dataclass(frozen=True)
class ReplayVerdict:
    """Whether one history replays, and if not, why.

    Attributes:
        source: Where the history came from (a path, or the live workflow).
        workflow_id: The case id, when the history says it.
        failure: None when the history replays; otherwise one line saying why.
    """

    source: str
    workflow_id: str | None
    failure: str | None = None

    @property
    def ok(self) -> bool:
        """The current code reproduces the history."""
        return self.failure is None


async def replay_history(source: str, history: WorkflowHistory) -> ReplayVerdict:
    """Replay ``history`` with the current GrievanceWorkflow.

    Args:
        source: What to call the history in the verdict.
        history: A history, checked or not.
    """
    try:
        history = check_grievance_history(history)
        result = await grievance_replayer().replay_workflow(history, raise_on_replay_failure=False)
    except AuditError as exc:
        return ReplayVerdict(source, history.workflow_id or None, str(exc))
    except Exception as exc:  # the core rejects some damaged histories by raising
        return ReplayVerdict(source, history.workflow_id or None, describe_replay_failure(exc))
    if result.replay_failure is not None:
        return ReplayVerdict(
            source, history.workflow_id, describe_replay_failure(result.replay_failure)
        )
    return ReplayVerdict(source, history.workflow_id)


async def replay_file(path: Path) -> ReplayVerdict:
    """Load and replay one history file; a file that is no history fails, never raises."""
    try:
        history = load_history_file(path)
    except AuditError as exc:
        return ReplayVerdict(str(path), None, str(exc))
    return await replay_history(str(path), history)
