"""``GET /readyz``: ready when Temporal, the database and a worker answer; calendar gaps warn."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment

from grievance_flow.api.app import build_resources, create_app
from grievance_flow.api.calendar_schemas import calendar_today
from grievance_flow.runtime import load_domain
from grievance_flow.store.engine import make_engine, migrate, sqlite_url_for
from grievance_flow.worker import ACTIVITY_THREADS, build_worker


@asynccontextmanager
async def polled_queue(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh task queue with a real worker polling it for the block."""
    task_queue = f"ready-{uuid.uuid4()}"
    (tmp_path / "worker").mkdir()
    engine = make_engine(sqlite_url_for(tmp_path / "worker"))
    migrate(engine)
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        worker = build_worker(
            dev_env.client,
            domain=load_domain(None),
            engine=engine,
            task_queue=task_queue,
            executor=executor,
        )
        async with worker:
            yield task_queue
    engine.dispose()


async def readyz(
    dev_env: WorkflowEnvironment, database_url: str, today: date, *, task_queue: str
) -> httpx.Response:
    engine = make_engine(database_url)
    try:
        resources = build_resources(
            dev_env.client, engine, load_domain(None), task_queue=task_queue
        )
        app = create_app(resources=resources)
        app.dependency_overrides[calendar_today] = lambda: today
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            return await http.get("/readyz")
    finally:
        engine.dispose()


async def ready_once_polled(
    dev_env: WorkflowEnvironment, database_url: str, today: date, *, task_queue: str
) -> httpx.Response:
    """``/readyz`` once the worker's first poll has reached Temporal (within 20 s)."""
    for _ in range(100):
        response = await readyz(dev_env, database_url, today, task_queue=task_queue)
        if response.json()["checks"]["worker"] == "ok":
            return response
        await asyncio.sleep(0.2)
    return response


async def test_ready_with_the_2027_calendar_warning(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    url = sqlite_url_for(tmp_path)
    migrate(make_engine(url))
    async with polled_queue(dev_env, tmp_path) as queue:
        response = await ready_once_polled(dev_env, url, date(2026, 12, 1), task_queue=queue)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"] == {"temporal": "ok", "database": "ok", "worker": "ok"}
    (warning,) = body["warnings"]
    assert "2027" in warning and "CALENDAR_OVERRIDES" in warning


async def test_ready_without_warnings_when_the_horizon_is_covered(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with polled_queue(dev_env, tmp_path) as queue:
        response = await ready_once_polled(
            dev_env, sqlite_url_for(tmp_path), date(2026, 9, 1), task_queue=queue
        )
    assert response.status_code == 200, response.text
    assert response.json()["warnings"] == []


async def test_not_ready_without_a_worker_and_says_which_queue(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    queue = f"nobody-{uuid.uuid4()}"
    response = await readyz(dev_env, sqlite_url_for(tmp_path), date(2026, 9, 1), task_queue=queue)
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["error"] == "Unavailable" and body["status"] == "unavailable"
    assert body["checks"]["temporal"] == "ok" and body["checks"]["database"] == "ok"
    assert body["checks"]["worker"].startswith("missing: no worker polled")
    assert f"worker missing: no worker polled task queue '{queue}'" in body["detail"]


async def test_an_unreachable_database_is_503_with_the_error_body(
    dev_env: WorkflowEnvironment,
) -> None:
    response = await readyz(
        dev_env,
        "postgresql://postgres@127.0.0.1:9/nowhere",
        date(2026, 12, 1),
        task_queue="nobody",
    )
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "Unavailable" and "database unreachable" in body["detail"]
    assert body["checks"]["temporal"] == "ok"
    assert body["checks"]["database"].startswith("unreachable")
    assert body["status"] == "unavailable" and len(body["warnings"]) == 1
