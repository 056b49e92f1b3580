"""``GET /v1/overview`` through the API, on SQLite and PostgreSQL: who may read it, and what."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from grievance_flow.runtime import load_domain
from grievance_flow.store.projection import project_case
from grievance_flow.workflows.contracts import Actor, Event, EventType, Role, Stage
from tests.api.conftest import Api, running_api
from tests.store.factories import make_case


@pytest.fixture
async def api_on(
    dev_env: WorkflowEnvironment, tmp_path: Path, database_url: str
) -> AsyncIterator[Api]:
    """The app on this test's own database, holding four cases projected as a worker would."""
    async with running_api(dev_env, tmp_path, load_domain(None), database_url=database_url) as api:
        hour = timedelta(hours=1)
        filed = datetime.now(UTC) - 2 * hour
        late = make_case("ov-late", stage=Stage.ACCEPT, unit="grid-1", created_at=filed,
                         due_in_hours=1)  # fmt: skip
        warned = make_case("ov-warned", stage=Stage.HANDLE, unit="grid-2", created_at=filed,
                           due_in_hours=2.25)  # fmt: skip
        project_case(api.engine, late, [])
        project_case(api.engine, warned, [])
        project_case(
            api.engine, make_case("ov-new", stage=Stage.REPORT, unit=None, due_in_hours=None), []
        )
        project_case(api.engine, make_case("ov-done", stage=Stage.CLOSED, unit="grid-1"), [])
        escalated = Event(
            6, EventType.ESCALATED, filed + hour, Actor(Role.SYSTEM), Stage.ACCEPT,
            {"from": "grid-1", "to": "comm-1", "tier": "C", "clock": "accept"},
        )  # fmt: skip
        project_case(api.engine, late, [escalated])
        yield api


async def test_the_overview_counts_every_stage_and_lists_the_lights(api_on: Api) -> None:
    response = await api_on.http.get("/v1/overview", headers=api_on.as_(Role.DISPATCHER))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["open_by_stage"] == {
        "report": 1,
        "classify": 0,
        "accept": 1,
        "handle": 1,
        "recheck": 0,
    }
    assert (body["open"], body["closed"]) == (3, 1)
    assert body["red"]["total"] == 1
    (red,) = body["red"]["items"]
    assert set(red) == {"id", "stage", "unit", "category", "due_at", "warn_at"}  # no reporter
    assert (red["id"], red["stage"], red["unit"]) == ("grievance-ov-late", "accept", "grid-1")
    assert [item["id"] for item in body["yellow"]["items"]] == ["grievance-ov-warned"]
    (escalation,) = body["escalations"]
    assert escalation["case_id"] == "grievance-ov-late"
    assert (escalation["from"], escalation["to"], escalation["tier"]) == ("grid-1", "comm-1", "C")


async def test_a_unit_sees_its_own_cases_and_others_may_not_look(api_on: Api) -> None:
    own = (await api_on.http.get("/v1/overview", headers=api_on.as_("grid-2"))).json()
    assert own["open"] == 1 and own["red"]["total"] == 0
    assert [item["id"] for item in own["yellow"]["items"]] == ["grievance-ov-warned"]
    assert own["escalations"] == []
    for role in (Role.AUDITOR, Role.ADMIN):
        assert (await api_on.http.get("/v1/overview", headers=api_on.as_(role))).status_code == 200
    for role in (Role.HOTLINE, Role.VERIFIER):
        refused = await api_on.http.get("/v1/overview", headers=api_on.as_(role))
        assert refused.status_code == 403 and refused.json()["error"] == "Forbidden"
    assert (await api_on.http.get("/v1/overview")).status_code == 401
    limited = await api_on.http.get(
        "/v1/overview", params={"limit": 0}, headers=api_on.as_(Role.DISPATCHER)
    )
    assert limited.status_code == 422
