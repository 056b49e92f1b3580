"""``GET /readyz``: ready when Temporal and the database answer; calendar gaps are warnings."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment

from grievance_flow.api.app import build_resources, create_app
from grievance_flow.api.calendar_schemas import calendar_today
from grievance_flow.runtime import load_domain
from grievance_flow.store.engine import make_engine, migrate, sqlite_url_for


async def readyz(dev_env: WorkflowEnvironment, database_url: str, today: date) -> httpx.Response:
    engine = make_engine(database_url)
    try:
        resources = build_resources(dev_env.client, engine, load_domain(None), task_queue="x")
        app = create_app(resources=resources)
        app.dependency_overrides[calendar_today] = lambda: today
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            return await http.get("/readyz")
    finally:
        engine.dispose()


async def test_ready_with_the_2027_calendar_warning(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    url = sqlite_url_for(tmp_path)
    migrate(make_engine(url))
    response = await readyz(dev_env, url, date(2026, 12, 1))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"] == {"temporal": "ok", "database": "ok"}
    (warning,) = body["warnings"]
    assert "2027" in warning and "CALENDAR_OVERRIDES" in warning


async def test_ready_without_warnings_when_the_horizon_is_covered(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    response = await readyz(dev_env, sqlite_url_for(tmp_path), date(2026, 9, 1))
    assert response.status_code == 200, response.text
    assert response.json()["warnings"] == []


async def test_an_unreachable_database_is_503_with_the_error_body(
    dev_env: WorkflowEnvironment,
) -> None:
    response = await readyz(dev_env, "postgresql://postgres@127.0.0.1:9/nowhere", date(2026, 12, 1))
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "Unavailable" and "database unreachable" in body["detail"]
    assert body["checks"]["temporal"] == "ok"
    assert body["checks"]["database"].startswith("unreachable")
    assert body["status"] == "unavailable" and len(body["warnings"]) == 1
