"""The API in-process against the dev server, a real worker and a SQLite read model."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from benchmarks.embedded import free_port
from grievance_flow.api.app import build_resources, create_app
from grievance_flow.cli.signals import QuietServer
from grievance_flow.runtime import Domain, load_domain
from grievance_flow.store.engine import make_engine, migrate, sqlite_url_for
from grievance_flow.store.keys import create_key
from grievance_flow.worker import ACTIVITY_THREADS, build_worker
from grievance_flow.workflows.contracts import Role


@dataclass
class Keys:
    """One key per role, and one per unit."""

    roles: dict[Role, str]
    units: dict[str, str]

    def headers(self, who: Role | str) -> dict[str, str]:
        """Authorization headers for a role (``Role.X``) or a unit id (``"grid-1"``)."""
        key = self.roles[who] if isinstance(who, Role) else self.units[who]
        return {"Authorization": f"Bearer {key}"}


@dataclass
class Api:
    """An HTTP client for the app, the keys to call it with, and its read model."""

    http: httpx.AsyncClient
    keys: Keys
    engine: Engine
    app: FastAPI

    def as_(self, who: Role | str) -> dict[str, str]:
        """Headers for a role (``Role.X``) or a unit id (``"grid-1"``)."""
        return self.keys.headers(who)


@pytest.fixture(scope="session")
async def api(
    dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Api]:
    async with running_api(dev_env, tmp_path_factory.mktemp("api"), load_domain(None)) as running:
        yield running


@asynccontextmanager
async def running_api(
    dev_env: WorkflowEnvironment,
    data_dir: Path,
    domain: Domain,
    *,
    database_url: str | None = None,
    client: Client | None = None,
) -> AsyncIterator[Api]:
    """The app, a worker with the real activities, keys for every role and unit.

    The read model is SQLite in ``data_dir`` unless ``database_url`` names another.
    Both talk to the dev server through ``client`` (default the environment's:
    ``DATA_CONVERTER``, no codec).
    """
    client = client or dev_env.client
    engine = make_engine(database_url or sqlite_url_for(data_dir))
    migrate(engine)
    keys = Keys(
        roles={
            role: create_key(engine, role=role, unit=None)
            for role in Role
            if role not in (Role.UNIT, Role.SYSTEM)
        },
        units={
            unit_id: create_key(engine, role=Role.UNIT, unit=unit_id)
            for unit_id in domain.catalogue.units
        },
    )
    task_queue = f"api-{uuid.uuid4()}"
    resources = build_resources(client, engine, domain, task_queue=task_queue)
    app = create_app(resources=resources)
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        worker = build_worker(
            client, domain=domain, engine=engine, task_queue=task_queue, executor=executor
        )
        async with worker:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
                yield Api(http=http, keys=keys, engine=engine, app=app)
    engine.dispose()


@asynccontextmanager
async def listening(api: Api) -> AsyncIterator[str]:
    """Serve ``api``'s app on a free local port (uvicorn) for the block; yield its base URL."""

    port = free_port()
    config = uvicorn.Config(
        api.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = QuietServer(config)
    serving = asyncio.create_task(server.serve())
    for _ in range(400):
        if server.started:
            break
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving
