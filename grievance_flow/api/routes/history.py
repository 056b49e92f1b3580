"""``GET /v1/grievances/{id}/history``: the raw Temporal history, for auditors only.

The history holds every payload unmasked (the reporter's phone included) and
every action as it was sent, so it is the auditor's evidence and nobody else's.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from grievance_flow.api.access import require_role
from grievance_flow.api.deps import CurrentActor, ResourcesDep
from grievance_flow.api.errors import NotFound, responses
from grievance_flow.audit.export import CaseNotFoundError, fetch_case_history
from grievance_flow.workflows.contracts import Role

router = APIRouter(prefix="/v1/grievances", tags=["audit"])

AUDITORS = frozenset({Role.AUDITOR})

_HISTORY_EXAMPLE = {
    "events": [
        {
            "eventId": "1",
            "eventTime": "2026-10-08T01:02:03.456Z",
            "eventType": "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED",
            "workflowExecutionStartedEventAttributes": {
                "workflowType": {"name": "GrievanceWorkflow"}
            },
        }
    ]
}


@router.get(
    "/{case_id}/history",
    responses={
        200: {
            "description": "Temporal's history JSON (as the Temporal CLI and Web UI export it); "
            "`grievance audit replay` and `audit show` read it.",
            "content": {"application/json": {"example": _HISTORY_EXAMPLE}},
        },
        **responses(401, 403, 404, 503),
    },
    summary="The case's raw workflow history (auditor)",
)
async def read_history(case_id: str, actor: CurrentActor, resources: ResourcesDep) -> JSONResponse:
    """Every event Temporal recorded for the case, oldest first."""
    # Before any lookup: a non-auditor learns nothing, not even whether the case exists.
    require_role(actor, AUDITORS, "read raw workflow histories")
    try:
        history = await fetch_case_history(resources.client, case_id)
    except CaseNotFoundError as exc:
        raise NotFound(f"No case '{case_id}'.") from exc
    # Already plain JSON data: skip FastAPI's encoder, which would walk every event.
    return JSONResponse(history.to_json_dict())
