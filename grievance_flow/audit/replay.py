"""Replaying one history against the current workflow code, never raising.

An audit run goes through many histories, some of them damaged or foreign on
purpose; each gets a verdict of its own and the run carries on.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter

from grievance_flow.audit.histories import AuditError, check_grievance_history, load_history_file
from grievance_flow.audit.replayer import describe_replay_failure, grievance_replayer
from grievance_flow.codec.converter import default_converter
from grievance_flow.codec.encryption import ENCODING, KEY_ID, EncryptionCodec


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


async def replay_history(
    source: str, history: WorkflowHistory, *, data_converter: DataConverter | None = None
) -> ReplayVerdict:
    """Replay ``history`` with the current GrievanceWorkflow.

    Args:
        source: What to call the history in the verdict.
        history: A history, checked or not.
        data_converter: Decodes its payloads (None: the process's own, see
            :func:`grievance_flow.audit.replayer.grievance_replayer`).
    """
    try:
        history = check_grievance_history(history)
        unreadable = _missing_keys(history, data_converter)
        if unreadable is not None:
            return ReplayVerdict(source, history.workflow_id or None, unreadable)
        replayer = grievance_replayer(data_converter=data_converter)
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    except AuditError as exc:
        return ReplayVerdict(source, history.workflow_id or None, str(exc))
    except Exception as exc:  # the core rejects some damaged histories by raising
        return ReplayVerdict(
            source, history.workflow_id or None, _hinted(describe_replay_failure(exc))
        )
    if result.replay_failure is not None:
        return ReplayVerdict(
            source, history.workflow_id, _hinted(describe_replay_failure(result.replay_failure))
        )
    return ReplayVerdict(source, history.workflow_id)


def _hinted(failure: str) -> str:
    if "binary/encrypted" in failure or "not in the ring" in failure:
        return f"{failure} ({_ENCRYPTED_HINT})"
    return failure


_ENCRYPTED_HINT = "give the system's --data-dir, or its key ring in GRIEVANCE_CODEC_KEYS"
_SEALED = base64.b64encode(ENCODING).decode()


def sealing_keys(history: WorkflowHistory) -> set[str]:
    """The codec key ids the history's payloads are sealed with (empty: a plain history)."""
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            metadata = node.get("metadata")
            if isinstance(metadata, dict) and metadata.get("encoding") == _SEALED:
                found.add(base64.b64decode(metadata.get(KEY_ID, "")).decode() or "?")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(history.to_json_dict())
    return found


def _missing_keys(history: WorkflowHistory, data_converter: DataConverter | None) -> str | None:
    """Why ``data_converter`` cannot read ``history``'s sealed payloads, or None."""
    needed = sealing_keys(history)
    if not needed:
        return None
    codec = (data_converter or default_converter()).payload_codec
    ring = codec.ring if isinstance(codec, EncryptionCodec) else None
    missing = sorted(needed if ring is None else {k for k in needed if ring.find(k) is None})
    if not missing:
        return None
    return f"the history is encrypted with codec key {', '.join(missing)}, which this " + (
        f"process's ring lacks: {_ENCRYPTED_HINT}"
        if ring
        else f"process has no ring for: {_ENCRYPTED_HINT}"
    )


async def replay_file(path: Path, *, data_converter: DataConverter | None = None) -> ReplayVerdict:
    """Load and replay one history file; a file that is no history fails, never raises."""
    try:
        history = load_history_file(path)
    except AuditError as exc:
        return ReplayVerdict(str(path), None, str(exc))
    return await replay_history(str(path), history, data_converter=data_converter)
