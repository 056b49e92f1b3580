"""``GET /v1/grievances/{id}/history``: the raw Temporal history, for auditors only."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowHistory

from grievance_flow.audit.replay import replay_history
from grievance_flow.workflows.contracts import Role
from tests.api.conftest import Api
from tests.api.helpers import act, dispatched_case, file_case


async def test_the_auditor_gets_the_history_in_temporals_json_format(api: Api) -> None:
    case = await dispatched_case(api)
    await act(api, case["id"], "accept", case["unit"], {"note": "已签收"})

    response = await api.http.get(
        f"/v1/grievances/{case['id']}/history", headers=api.as_(Role.AUDITOR)
    )

    assert response.status_code == 200, response.text
    history = response.json()
    first = history["events"][0]
    assert first["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"
    assert first["workflowExecutionStartedEventAttributes"]["workflowType"] == {
        "name": "GrievanceWorkflow"
    }
    updates = [
        event["workflowExecutionUpdateAcceptedEventAttributes"]["acceptedRequest"]["input"]["name"]
        for event in history["events"]
        if event["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED"
    ]
    assert updates == ["intake", "dispatch", "accept"]
    # What the auditor downloads is what `grievance audit replay` takes.
    verdict = await replay_history("api", WorkflowHistory.from_json(case["id"], history))
    assert verdict.ok, verdict.failure


@pytest.mark.parametrize(
    "who", [Role.HOTLINE, Role.DISPATCHER, Role.VERIFIER, Role.ADMIN, "grid-1"]
)
async def test_everyone_else_is_refused(api: Api, who: Role | str) -> None:
    case = await dispatched_case(api)  # assigned to grid-1: even its own unit is refused

    response = await api.http.get(f"/v1/grievances/{case['id']}/history", headers=api.as_(who))

    assert response.status_code == 403, response.text
    assert response.json()["error"] == "Forbidden"


async def test_an_unknown_case_is_404_for_the_auditor_and_403_for_others(api: Api) -> None:
    path = "/v1/grievances/grievance-never-filed/history"

    unknown = await api.http.get(path, headers=api.as_(Role.AUDITOR))
    assert unknown.status_code == 404, unknown.text
    assert unknown.json() == {"error": "NotFound", "detail": "No case 'grievance-never-filed'."}
    # Refused before the lookup: a non-auditor cannot probe which cases exist.
    probe = await api.http.get(path, headers=api.as_(Role.HOTLINE))
    assert probe.status_code == 403, probe.text


async def test_no_key_is_401(api: Api) -> None:
    case = await file_case(api)
    response = await api.http.get(f"/v1/grievances/{case['id']}/history")
    assert response.status_code == 401, response.text
