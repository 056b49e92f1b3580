"""``grievance worker`` and ``grievance api``: the two halves as separate processes (SPEC §5)."""

from __future__ import annotations

import asyncio
import signal
import uuid
from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment

from tests.api.helpers import grievance_body
from tests.cli.conftest import (
    Processes,
    bearer,
    command_env,
    free_port,
    json_object,
    printed_key,
    wait_until_healthy,
)


async def test_worker_and_api_run_alone(
    processes: Processes, tmp_path: Path, dev_env: WorkflowEnvironment
) -> None:
    env = command_env(
        TEMPORAL_ADDRESS=dev_env.client.service_client.config.target_host,
        DATABASE_URL=f"sqlite:///{tmp_path / 'rm.db'}",
        GRIEVANCE_TASK_QUEUE=f"cli-{uuid.uuid4()}",
    )
    hotline, dispatcher = [
        printed_key(await processes.run("keys", "create", "--role", role, env=env))
        for role in ("hotline", "dispatcher")
    ]
    # DATABASE_URL, not the default ./data, received them.
    assert not (tmp_path / "data").exists()

    port = free_port()
    worker = await processes.start("worker", env=env)
    api = await processes.start("api", "--port", str(port), env=env)
    await wait_until_healthy(f"http://127.0.0.1:{port}", api)

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30.0) as http:
        # The api process runs no worker: a classified case means the worker process ran it.
        filed = json_object(
            await http.post("/v1/grievances", json=grievance_body(), headers=bearer(hotline)),
            201,
        )
        assert filed["stage"] == "classify"
        dispatched = json_object(
            await http.post(
                f"/v1/grievances/{filed['id']}/dispatch",
                json={"category": "city.street-vending"},
                headers=bearer(dispatcher),
            ),
            200,
        )
        assert (dispatched["stage"], dispatched["unit"]) == ("accept", "grid-1")

    for command in (worker, api):
        assert command.returncode is None, command.describe()
        command.send(signal.SIGTERM)
    worker_code, api_code = await asyncio.gather(worker.wait(), api.wait())
    assert (worker_code, api_code) == (0, 0), f"{worker.describe()}\n{api.describe()}"
    # Both froze their start-up heap once ready (grievance_flow.heap).
    for command in (worker, api):
        assert "start-up heap frozen" in command.stderr(), command.describe()
