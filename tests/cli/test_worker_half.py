"""A dead worker half is noticed: its error ends the serving, and ``up`` exits with the reason.

``grievance up`` serves its API with :func:`serve_until`, watching
:meth:`RunningWorker.failed` and the dev server's supervisor. Here a real
worker dies the way a real one can at any time: its namespace is not there.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
import uvicorn
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from grievance_flow.cli.signals import QuietServer, serve_until
from grievance_flow.runtime import load_domain
from grievance_flow.settings import Settings
from grievance_flow.worker import WorkerStoppedError, running_worker
from tests.cli.conftest import free_port


async def _client_without_namespace(dev_env: WorkflowEnvironment) -> Client:
    return await Client.connect(
        dev_env.client.service_client.config.target_host, namespace=f"gone-{uuid.uuid4().hex}"
    )


async def _hello(scope: object, receive: object, send: object) -> None:
    raise AssertionError("no request is sent in these tests")


async def test_a_worker_that_dies_says_why(
    dev_env: WorkflowEnvironment, sqlite_engine: Engine
) -> None:
    client = await _client_without_namespace(dev_env)
    async with running_worker(
        client, domain=load_domain(None), engine=sqlite_engine, settings=Settings()
    ) as worker:
        with pytest.raises(WorkerStoppedError, match=r"the worker failed: .*Namespace gone-"):
            await asyncio.wait_for(worker.failed(), 30)


async def test_a_dead_worker_stops_the_api_and_is_re_raised(
    dev_env: WorkflowEnvironment, sqlite_engine: Engine
) -> None:
    client = await _client_without_namespace(dev_env)
    api = QuietServer(
        uvicorn.Config(_hello, host="127.0.0.1", port=free_port(), log_level="warning")
    )
    never = asyncio.Event()  # no signal comes: only the worker's death may end this
    async with running_worker(
        client, domain=load_domain(None), engine=sqlite_engine, settings=Settings()
    ) as worker:
        with pytest.raises(WorkerStoppedError, match="the worker failed"):
            await asyncio.wait_for(serve_until(api, never, watch=[worker.failed()]), 30)
    assert api.should_exit


async def test_a_worker_that_is_stopped_is_no_failure(
    dev_env: WorkflowEnvironment, sqlite_engine: Engine
) -> None:
    settings = Settings(GRIEVANCE_TASK_QUEUE=f"half-{uuid.uuid4()}")
    async with running_worker(
        dev_env.client, domain=load_domain(None), engine=sqlite_engine, settings=settings
    ) as worker:
        watching = asyncio.create_task(worker.failed())
        await asyncio.sleep(0.5)
        assert not watching.done(), "a healthy worker was reported dead"
        await worker.stop()
        await asyncio.wait_for(watching, 30)  # returns: a stop is not a failure
