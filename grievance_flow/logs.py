"""How every ``grievance`` process logs: plain lines, or one JSON object per line.

``GRIEVANCE_LOG_FORMAT=json`` writes ``{"ts", "level", "logger", "message"}``
per line, plus ``case_id`` on every line that concerns a case. That id is found,
in this order, in the record's own ``case_id`` extra; the ``workflow_id`` the
Temporal workflow and activity loggers put in their extras; the running
activity's workflow; and the API request's :data:`case_context`. A notice
delivery workflow (``notices-<case>:<seq>``) logs for its case.

A case id is a business key, not personal data; what a reporter wrote never
reaches a log line from this module (messages are the callers' own).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

from temporalio import activity

from grievance_flow.workflows.notice_delivery import DELIVERY_WORKFLOW_ID_PREFIX

LogFormat = Literal["text", "json"]

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

case_context: ContextVar[str | None] = ContextVar("grievance_case_id", default=None)
"""The case the current API request is about; set by the action routes and the metrics
middleware, read by :class:`JsonFormatter`."""


def case_id_of(workflow_id: str) -> str:
    """The case a workflow belongs to: itself, or the case a notice delivery is for."""
    if workflow_id.startswith(DELIVERY_WORKFLOW_ID_PREFIX):
        return workflow_id.removeprefix(DELIVERY_WORKFLOW_ID_PREFIX).rpartition(":")[0]
    return workflow_id


def _temporal_workflow_id(record: logging.LogRecord) -> str | None:
    for extra in ("temporal_workflow", "temporal_activity"):
        details = getattr(record, extra, None)
        if isinstance(details, Mapping) and isinstance(details.get("workflow_id"), str):
            return str(details["workflow_id"])
    if activity.in_activity():
        return activity.info().workflow_id
    return None


def case_id_for_record(record: logging.LogRecord) -> str | None:
    """The case ``record`` concerns, or None."""
    explicit = getattr(record, "case_id", None)
    if isinstance(explicit, str):
        return explicit
    workflow_id = _temporal_workflow_id(record)
    if workflow_id is not None:
        return case_id_of(workflow_id)
    return case_context.get()


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``ts``, ``level``, ``logger``, ``message``, ``case_id``?"""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as one line of JSON (a traceback goes in ``exception``)."""
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        case_id = case_id_for_record(record)
        if case_id:
            line["case_id"] = case_id
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(log_format: LogFormat, *, level: int = logging.INFO) -> None:
    """Send every logger's records to stderr, as text or JSON lines.

    Like :func:`logging.basicConfig`, a no-op when the root logger already has
    handlers (a test runner's, say), so an in-process caller keeps its own.
    """
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    logging.basicConfig(level=level, handlers=[handler])
    # Migrations announce every plugin at INFO; only their problems are news.
    logging.getLogger("alembic").setLevel(logging.WARNING)


def uvicorn_log_config(log_format: LogFormat) -> dict[str, Any] | None:
    """uvicorn's ``log_config``: its own handlers for text, none (ours, via root) for JSON.

    With its own handlers uvicorn would print its lines, access lines included,
    in its own text format whatever ``GRIEVANCE_LOG_FORMAT`` says.
    """
    if log_format == "json":
        return None
    from uvicorn.config import LOGGING_CONFIG

    return LOGGING_CONFIG
