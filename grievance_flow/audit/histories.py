"""Loading and checking history JSON before anything replays it.

Temporal's replayer trusts its input: a history without a start event makes
the SDK core panic and hang instead of failing. So every history is checked
here first, and a file that is not a history, or is the history of some other
workflow, is refused with a sentence an auditor can act on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory

from grievance_flow.audit.bundle import is_bundle
from grievance_flow.payloads import DATA_CONVERTER
from grievance_flow.workflows.contracts import FileGrievanceInput

WORKFLOW_TYPE = "GrievanceWorkflow"
"""The workflow type every grievance history starts with."""


class AuditError(Exception):
    """A history cannot be audited; the message says why, for one output line."""


class NotAHistoryError(AuditError):
    """The JSON is not a Temporal workflow history."""

    def __init__(self, why: str) -> None:
        super().__init__(f"not a Temporal history: {why}")


class ForeignHistoryError(AuditError):
    """A well-formed history of a workflow type other than ours."""

    def __init__(self, workflow_type: str) -> None:
        super().__init__(f"not a grievance workflow history: {workflow_type or '(no type)'}")
        self.workflow_type = workflow_type


def history_from_json(document: Any, *, workflow_id: str | None = None) -> WorkflowHistory:
    """Parse and check a history in Temporal's JSON format.

    Args:
        document: The parsed JSON (``{"events": [...]}``, as exported by us, the
            Temporal CLI or the Web UI).
        workflow_id: The workflow id when known; the JSON format does not carry
            it, so by default it is read from the grievance's start input.

    Raises:
        NotAHistoryError: The document is not a (replayable) workflow history.
        ForeignHistoryError: It is the history of another workflow type.
    """
    if not isinstance(document, dict):
        raise NotAHistoryError(f"expected a JSON object, found {type(document).__name__}")
    try:
        history = WorkflowHistory.from_json(workflow_id or "", document)
    except Exception as exc:  # protobuf and the SDK raise several types for bad input
        raise NotAHistoryError(_first_line(exc)) from exc
    return check_grievance_history(history, workflow_id=workflow_id)


def check_grievance_history(
    history: WorkflowHistory, *, workflow_id: str | None = None
) -> WorkflowHistory:
    """Refuse a history the replayer cannot take or that is not a grievance's.

    Returns:
        The history, with its workflow id filled in from the start input when
        ``workflow_id`` is not given and the history has none.

    Raises:
        NotAHistoryError: No events, or the first is not a workflow start with a run id.
        ForeignHistoryError: The workflow type is not ``GrievanceWorkflow``.
    """
    if not history.events:
        raise NotAHistoryError("it has no events")
    first = history.events[0]
    if not first.HasField("workflow_execution_started_event_attributes"):
        raise NotAHistoryError("the first event is not WorkflowExecutionStarted")
    started = first.workflow_execution_started_event_attributes
    if not started.original_execution_run_id:
        raise NotAHistoryError("the start event has no run id")
    if started.workflow_type.name != WORKFLOW_TYPE:
        raise ForeignHistoryError(started.workflow_type.name)
    known = workflow_id or history.workflow_id or case_id_of(first)
    return WorkflowHistory(known or "", history.events)


def case_id_of(first: HistoryEvent) -> str | None:
    """The case id (= workflow id) the start event records, if readable.

    Newer servers write the workflow id into the start event; older histories
    only have it inside the grievance's start input.
    """
    started = first.workflow_execution_started_event_attributes
    if started.workflow_id:
        return started.workflow_id
    payloads = started.input.payloads
    if not payloads:
        return None
    try:
        intake = DATA_CONVERTER.payload_converter.from_payload(payloads[0], FileGrievanceInput)
    except Exception:  # a damaged input: the replay will say so; the id stays unknown
        return None
    return intake.case_id if isinstance(intake, FileGrievanceInput) else None


def load_history_file(path: Path) -> WorkflowHistory:
    """Read and check one history file: Temporal's history JSON, or a signed bundle.

    Raises:
        NotAHistoryError: Unreadable, not JSON, or not a workflow history.
        ForeignHistoryError: The history of another workflow type.
    """
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NotAHistoryError(f"cannot read it ({_first_line(exc)})") from exc
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotAHistoryError(f"invalid JSON ({exc})") from exc
    if is_bundle(document):  # a signed bundle: replay its history (verify checks the rest)
        return history_from_json(document.get("history"), workflow_id=document.get("case_id"))
    return history_from_json(document)


def history_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Each file as given, and every ``*.json`` under each folder (recursively, sorted).

    Raises:
        FileNotFoundError: A path does not exist (checked before anything is yielded).
    """
    paths = list(paths)
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(f"no such file or folder: {path}")
    for path in paths:
        if path.is_dir():
            yield from sorted(found for found in path.rglob("*.json") if found.is_file())
        else:
            yield path


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
