"""The root ``worker.py`` (the image's worker entry point): ``python worker.py`` runs a worker."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import uuid
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.testing import WorkflowEnvironment

from tests.cli.conftest import command_env
from tests.deploy.conftest import ROOT

PATIENCE = 30.0


async def _pollers(env: WorkflowEnvironment, task_queue: str) -> list[str]:
    """The identities polling ``task_queue`` for workflow tasks."""
    described = await env.client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=env.client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    return [poller.identity for poller in described.pollers]


async def test_python_worker_py_polls_the_task_queue_and_stops_on_sigterm(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    task_queue = f"worker-py-{uuid.uuid4()}"
    env = command_env(
        TEMPORAL_ADDRESS=dev_env.client.service_client.config.target_host,
        DATABASE_URL=f"sqlite:///{tmp_path / 'rm.db'}",
        GRIEVANCE_TASK_QUEUE=task_queue,
    )
    output = tmp_path / "worker.log"
    with output.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "worker.py",
            cwd=ROOT,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PATIENCE
        mine = f"{process.pid}@"
        while not any(
            identity.startswith(mine) for identity in await _pollers(dev_env, task_queue)
        ):
            if process.returncode is not None or loop.time() > deadline:
                pytest.fail(f"worker.py never polled {task_queue}:\n{output.read_text()}")
            await asyncio.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), PATIENCE)
        assert code == 0, output.read_text()
        assert "worker stopped" in output.read_text()
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
