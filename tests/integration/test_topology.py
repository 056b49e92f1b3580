"""The multi-process topology for real (SPEC §8, issue 9): kill a worker and an API, lose nothing.

One standalone ``temporal server start-dev`` with the §8 search attributes, two
``grievance worker`` and two ``grievance api`` processes, and the PostgreSQL
read model in a database of its own. Cases are driven to closed over HTTP,
round-robin across both APIs, by the fault suite's :class:`Driver` (a request
without an answer is retried with the same ``Idempotency-Key`` / ``external_id``,
so it lands on the other API). Meanwhile one worker and one API are killed -9.
Every case must close, none lost and none duplicated.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from temporalio.client import Client

from benchmarks.fault_processes import RoundRobin
from benchmarks.faults import Driver
from grievance_flow.binaries import temporal_cli
from grievance_flow.catalogue.loader import load_catalogue
from grievance_flow.cli.devkeys import ensure_dev_keys
from grievance_flow.search_attributes import registrations
from grievance_flow.store.engine import make_engine, migrate
from tests.cli.conftest import Processes, command_env, free_port, wait_until_healthy
from tests.databases import (
    DatabaseUnavailableError,
    make_test_database_url,
    skip_or_fail_unavailable,
)

pytestmark = pytest.mark.postgres

CASES = 16
CONCURRENCY = 4
KILL_WORKER_AT = 3
"""Closed cases before one worker is killed."""
KILL_API_AT = 7
"""Closed cases before one API is killed."""


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for the read model, dropped afterwards."""
    try:
        url, drop = make_test_database_url("postgres")
    except DatabaseUnavailableError as err:
        skip_or_fail_unavailable(err)
    try:
        yield url
    finally:
        drop()


@pytest.fixture
def temporal_address(tmp_path: Path) -> Iterator[str]:
    """A standalone dev server (in memory, headless) with the search attributes registered."""
    port = free_port()
    attributes = [f"--search-attribute={name}={kind}" for name, kind in registrations().items()]
    with (tmp_path / "temporal.log").open("wb") as log:
        server = subprocess.Popen(
            [
                str(temporal_cli()),
                "server",
                "start-dev",
                "--ip",
                "127.0.0.1",
                "--port",
                str(port),
                "--headless",
                "--log-level",
                "warn",
                *attributes,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.kill()
        server.wait()


async def connect(address: str, *, patience: float = 30.0) -> Client:
    """A client once the dev server answers."""
    deadline = time.monotonic() + patience
    while True:
        try:
            return await Client.connect(address)
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.25)


async def test_cases_close_while_a_worker_and_an_api_are_killed(
    processes: Processes, tmp_path: Path, postgres_url: str, temporal_address: str
) -> None:
    client = await connect(temporal_address)
    engine = make_engine(postgres_url)
    try:
        migrate(engine)
        keys_path = ensure_dev_keys(tmp_path, engine, load_catalogue(None))
    finally:
        engine.dispose()
    env = command_env(TEMPORAL_ADDRESS=temporal_address, DATABASE_URL=postgres_url)
    workers = [await processes.start("worker", env=env) for _ in range(2)]
    ports = [free_port(), free_port()]
    apis = [await processes.start("api", "--port", str(port), env=env) for port in ports]
    for port, api in zip(ports, apis, strict=True):
        await wait_until_healthy(f"http://127.0.0.1:{port}", api)

    run_id = f"topology-{os.getpid()}-{int(time.time())}"
    balancer = RoundRobin(ports)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{ports[0]}", transport=balancer, timeout=30.0
    ) as http:
        driver = Driver(http, json.loads(keys_path.read_text("utf-8")), run_id=run_id)
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(index: int) -> None:
            async with gate:
                await driver.one_case(index)

        async def killer() -> None:
            for at, victim in ((KILL_WORKER_AT, workers[0]), (KILL_API_AT, apis[0])):
                while driver.closed < at:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
                victim.send(signal.SIGKILL)

        await asyncio.gather(killer(), *(one(index) for index in range(CASES)))

        assert balancer.refused > 0, "the killed API was never tried"
        # Every acknowledged case closed, and each step is recorded once.
        assert driver.closed == len(driver.acknowledged) == CASES
        for case_id in sorted(driver.acknowledged):
            case = (await http.get(f"/v1/grievances/{case_id}", headers=auditor(driver))).json()
            assert case["stage"] == "closed", case
            events = (
                await http.get(f"/v1/grievances/{case_id}/events", headers=auditor(driver))
            ).json()
            repeated = {kind: n for kind, n in Counter(e["type"] for e in events).items() if n > 1}
            assert not repeated, f"{case_id}: recorded more than once: {repeated}"

    # None lost, none duplicated: one workflow per case in Temporal, one row in the read model.
    started = [
        execution.id
        async for execution in client.list_workflows("WorkflowType = 'GrievanceWorkflow'")
    ]
    assert sorted(started) == sorted(driver.acknowledged)
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT id, stage FROM cases")).all()
    finally:
        engine.dispose()
    assert sorted(rows) == sorted((case_id, "closed") for case_id in driver.acknowledged)

    assert [command.returncode for command in (workers[0], apis[0])] == [-9, -9]
    for survivor in (workers[1], apis[1]):
        assert survivor.returncode is None, survivor.describe()
        survivor.send(signal.SIGTERM)
        assert await survivor.wait() == 0, survivor.describe()


def auditor(driver: Driver) -> dict[str, str]:
    """The auditor's headers."""
    return {"Authorization": f"Bearer {driver.keys['auditor']}"}
