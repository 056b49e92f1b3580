"""The process runtime: none unless asked for, a taken port said plainly, core logs forwarded."""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid

import pytest
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from grievance_flow.settings import Settings
from grievance_flow.telemetry import (
    CORE_LOGGER,
    MetricsPortError,
    build_runtime,
    install_runtime,
)


@workflow.defn
class Idle:
    """A workflow for a worker to have; it never runs."""

    @workflow.run
    async def run(self) -> None:
        return None


@activity.defn
async def idle_activity() -> None:
    """An activity for a worker to have (the core warns about activity workers)."""


def test_text_logs_and_no_port_leave_the_sdk_default_alone() -> None:
    assert install_runtime(Settings(), serve_metrics=True) is None
    # The API never serves the worker port, whatever the environment says.
    api = Settings(GRIEVANCE_METRICS_PORT="9464")
    assert install_runtime(api, serve_metrics=False) is None


def test_a_taken_port_is_an_error_naming_the_address() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(MetricsPortError, match=f"127.0.0.1:{port}.*in use"):
            build_runtime(metrics_address=f"127.0.0.1:{port}", forward_logs=False)


async def test_forwarded_core_warnings_reach_python_logging(
    time_skipping_env: WorkflowEnvironment, caplog: pytest.LogCaptureFixture
) -> None:
    # A worker on the time-skipping server makes the core warn that the server
    # lacks a capability: on stderr by default, through Python logging here.
    runtime = build_runtime(metrics_address=None, forward_logs=True)
    client = await Client.connect(
        time_skipping_env.client.service_client.config.target_host, runtime=runtime
    )
    with caplog.at_level(logging.WARNING, logger=CORE_LOGGER):
        async with Worker(
            client,
            task_queue=f"core-{uuid.uuid4()}",
            workflows=[Idle],
            activities=[idle_activity],
        ):
            for _ in range(100):
                if any(record.name.startswith(CORE_LOGGER) for record in caplog.records):
                    break
                await asyncio.sleep(0.05)
    forwarded = [record for record in caplog.records if record.name.startswith(CORE_LOGGER)]
    assert forwarded, "no core log line was forwarded"


def test_the_port_comes_from_the_environment() -> None:
    settings = Settings(GRIEVANCE_METRICS_PORT="9464")
    assert (settings.metrics_port, settings.metrics_host) == (9464, "0.0.0.0")
    with pytest.raises(ValueError, match="GRIEVANCE_METRICS_PORT"):
        Settings(GRIEVANCE_METRICS_PORT="0")
