"""503: a request that needs a worker or the database says so instead of hanging."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from grievance_flow.api.app import build_resources, create_app
from grievance_flow.api.gateway import CaseGateway
from grievance_flow.runtime import load_domain
from grievance_flow.store.engine import make_engine, migrate, sqlite_url_for
from grievance_flow.store.keys import create_key
from grievance_flow.workflows.contracts import Role, case_id_for
from tests.api.helpers import grievance_body


@pytest.fixture
async def workerless(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """The API on a task queue no worker polls, with a one-second patience."""
    engine = make_engine(sqlite_url_for(tmp_path))
    migrate(engine)
    key = create_key(engine, role=Role.HOTLINE, unit=None)
    task_queue = f"nobody-{uuid.uuid4()}"
    resources = build_resources(dev_env.client, engine, load_domain(None), task_queue=task_queue)
    resources.gateway = CaseGateway(dev_env.client, engine, task_queue=task_queue, patience=1.0)
    transport = httpx.ASGITransport(app=create_app(resources=resources))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        yield http, key
    engine.dispose()


async def test_no_worker_means_503_with_advice(
    workerless: tuple[httpx.AsyncClient, str], dev_env: WorkflowEnvironment
) -> None:
    http, key = workerless
    body = grievance_body()
    response = await http.post(
        "/v1/grievances", json=body, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "Unavailable"
    assert "external_id" in response.json()["detail"]
    # Temporal did accept the start: the case is durable and will run once a worker comes.
    handle = dev_env.client.get_workflow_handle(case_id_for(body["external_id"]))
    assert (await handle.describe()).status is not None
    await handle.terminate("test cleanup")


async def test_health_reports_an_unreachable_database(dev_env: WorkflowEnvironment) -> None:
    engine = make_engine("postgresql://postgres@127.0.0.1:9/nowhere")
    resources = build_resources(dev_env.client, engine, load_domain(None), task_queue="unused")
    transport = httpx.ASGITransport(app=create_app(resources=resources))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        response = await http.get("/healthz")
    assert response.status_code == 503
    assert response.json()["temporal"] == "ok"
    assert response.json()["database"].startswith("unreachable")
    engine.dispose()
