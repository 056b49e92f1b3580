"""``GET /v1/catalogue`` reports the working-day calendar's coverage per year."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment

from grievance_flow.api.app import build_resources, create_app
from grievance_flow.api.calendar_schemas import calendar_today
from grievance_flow.catalogue.loader import parse_catalogue, read_catalogue_data
from grievance_flow.runtime import Domain, load_domain
from grievance_flow.store.engine import make_engine, migrate, sqlite_url_for
from grievance_flow.store.keys import create_key
from grievance_flow.workflows.contracts import Role


async def get_catalogue(
    dev_env: WorkflowEnvironment, data_dir: Path, domain: Domain, today: date
) -> httpx.Response:
    """GET /v1/catalogue from the API (no worker needed) on a fixed "today"."""
    engine = make_engine(sqlite_url_for(data_dir))
    try:
        migrate(engine)
        key = create_key(engine, role=Role.UNIT, unit="grid-1")
        resources = build_resources(dev_env.client, engine, domain, task_queue="x")
        app = create_app(resources=resources)
        app.dependency_overrides[calendar_today] = lambda: today
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            return await http.get("/v1/catalogue", headers={"Authorization": f"Bearer {key}"})
    finally:
        engine.dispose()


async def test_catalogue_reports_each_year_and_the_2027_warning(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    response = await get_catalogue(dev_env, tmp_path, load_domain(None), date(2026, 12, 1))
    assert response.status_code == 200, response.text
    body = response.json()
    assert {"units", "categories", "sla_classes", "policy"} <= set(body)
    calendar = body["calendar"]
    assert calendar["today"] == "2026-12-01" and calendar["horizon_days"] == 60
    years = {entry["year"]: entry for entry in calendar["years"]}
    assert years[2026]["source"] == "chinese-calendar" and years[2026]["official_workdays"]
    assert years[2027]["source"] == "holidays" and not years[2027]["official_workdays"]
    assert years[2027]["version"]
    (warning,) = calendar["warnings"]
    assert warning.startswith("2027-01-01 to 2027-01-30")


async def test_the_schedule_in_an_overrides_file_is_shown_and_silences_the_warning(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    overrides = tmp_path / "2027.yaml"
    overrides.write_text("holidays: [2027-02-11, 2027-02-12]\nworkdays: [2027-02-20]\n", "utf-8")
    domain = load_domain(None, overrides)
    calendar = (await get_catalogue(dev_env, tmp_path, domain, date(2026, 12, 1))).json()[
        "calendar"
    ]
    years = {entry["year"]: entry for entry in calendar["years"]}
    assert years[2027]["official_workdays"]
    assert (years[2027]["override_holidays"], years[2027]["override_workdays"]) == (2, 1)
    assert calendar["warnings"] == []


async def test_a_saved_answer_loads_as_the_same_catalogue(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    domain = load_domain(None)
    response = await get_catalogue(dev_env, tmp_path, domain, date(2026, 12, 1))
    assert response.status_code == 200, response.text
    saved = tmp_path / "saved-catalogue.json"
    saved.write_text(response.text, "utf-8")
    data, _ = read_catalogue_data(saved)
    assert parse_catalogue(data, source=str(saved)) == domain.catalogue
