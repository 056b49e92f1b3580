"""Fetching a case's history from Temporal, for the API and ``audit export``."""

from __future__ import annotations

from temporalio.client import Client, WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode

from grievance_flow.workflows.contracts import WORKFLOW_ID_PREFIX, case_id_for


class CaseNotFoundError(LookupError):
    """Temporal holds no workflow with that id (never filed, or past retention)."""


async def fetch_case_history(
    client: Client, case_id: str, *, lenient: bool = False
) -> WorkflowHistory:
    """The full history of the case's workflow (its latest run).

    Args:
        client: A connected client.
        case_id: The case id (``grievance-<external_id>``).
        lenient: Also accept the hotline's bare ``external_id`` (for people
            typing at a terminal; the API takes case ids only).

    Raises:
        CaseNotFoundError: No such workflow.
        RPCError: Temporal could not be asked.
    """
    candidates = [case_id]
    if lenient and not case_id.startswith(WORKFLOW_ID_PREFIX):
        candidates.append(case_id_for(case_id))
    for candidate in candidates:
        try:
            return await client.get_workflow_handle(candidate).fetch_history()
        except RPCError as exc:
            if exc.status is not RPCStatusCode.NOT_FOUND:
                raise
    raise CaseNotFoundError(f"no case '{case_id}'")
