"""``grievance worker --metrics-port``: the SDK's metrics and the SLA clocks', scraped for real.

A worker process on the dev server, with a catalogue whose clocks run in
seconds, so a case warns, goes overdue, is chased and escalated within a few
seconds. Its logs are JSON (``GRIEVANCE_LOG_FORMAT=json``), and the lines about
the case (its notices) carry its id.
"""

from __future__ import annotations

import asyncio
import copy
import json
import signal
import socket
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from temporalio.testing import WorkflowEnvironment

from grievance_flow.catalogue.loader import read_catalogue_data
from grievance_flow.metric_names import CLOCK_LATENESS, SLA_EVENTS, SlaEventType
from grievance_flow.workflows.grievance import GrievanceWorkflow
from tests.builders import intake
from tests.cli.conftest import Command, Processes, command_env, free_port


def seconds_catalogue(path: Path) -> Path:
    """The bundled catalogue with every clock at 2 s, escalating 1 s after its deadline."""
    data, _ = read_catalogue_data(None)
    data = copy.deepcopy(data)
    for name in data["sla_classes"]:
        data["sla_classes"][name] = {
            stage: {"seconds": 2} for stage in ("classify", "accept", "handle", "recheck")
        } | {"report_in": {"seconds": 2}}
    data["policy"]["escalate_after"] = {"seconds": 1}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return path


def sla_counts(text: str) -> dict[str, float]:
    """``grievance_sla_events_total`` by type, summed over the SDK's labels."""
    counts: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == SLA_EVENTS:
                kind = sample.labels["type"]
                counts[kind] = counts.get(kind, 0.0) + sample.value
    return counts


async def scrape_until_escalated(url: str, worker: Command, *, patience: float = 60.0) -> str:
    """The exposition once an escalation is counted; fails early if the worker exits."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    text = "no answer"
    async with httpx.AsyncClient(timeout=5.0) as http:
        while loop.time() < deadline:
            if worker.returncode is not None:
                pytest.fail(f"the worker exited: {worker.describe()}")
            try:
                text = (await http.get(url)).text
            except httpx.TransportError as exc:
                text = repr(exc)
            else:
                if sla_counts(text).get(SlaEventType.ESCALATED.value):
                    return text
            await asyncio.sleep(0.3)
    pytest.fail(f"no escalation counted within {patience:.0f}s:\n{text[-3000:]}")


def json_lines(stderr: str) -> list[dict[str, Any]]:
    lines = [line for line in stderr.splitlines() if line.strip()]
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"a log line is not JSON: {line!r}")
    return parsed


async def test_a_worker_serves_sdk_and_sla_metrics_and_logs_json(
    dev_env: WorkflowEnvironment, processes: Processes, tmp_path: Path
) -> None:
    port = free_port()
    queue = f"metrics-{uuid.uuid4()}"
    worker = await processes.start(
        "worker",
        "--metrics-port",
        str(port),
        env=command_env(
            TEMPORAL_ADDRESS=dev_env.client.service_client.config.target_host,
            GRIEVANCE_TASK_QUEUE=queue,
            GRIEVANCE_DATA_DIR=str(tmp_path / "data"),
            CATALOGUE=str(seconds_catalogue(tmp_path / "seconds.yaml")),
            GRIEVANCE_METRICS_HOST="127.0.0.1",
            GRIEVANCE_LOG_FORMAT="json",
        ),
    )
    grievance = intake()
    handle = await dev_env.client.start_workflow(
        GrievanceWorkflow.run, grievance, id=grievance.case_id, task_queue=queue
    )
    try:
        await handle.execute_update(GrievanceWorkflow.intake)
        text = await scrape_until_escalated(f"http://127.0.0.1:{port}/metrics", worker)
    finally:
        await handle.terminate("test over")

    # The SDK core's own metrics, with its prefix.
    families = {family.name: family for family in text_string_to_metric_families(text)}
    assert {"temporal_num_pollers", "temporal_workflow_task_execution_latency"} <= set(families)
    # The SLA metrics under exactly their SPEC §8 names.
    counts = sla_counts(text)
    assert {kind.value for kind in SlaEventType} <= set(counts), counts
    assert families[CLOCK_LATENESS].type == "histogram"
    lateness = {sample.name: sample.value for sample in families[CLOCK_LATENESS].samples}
    assert lateness[f"{CLOCK_LATENESS}_count"] >= 3  # warn, overdue, escalate
    assert grievance.case_id not in text  # labels name the queue and type, never a case

    worker.send(signal.SIGTERM)
    assert await worker.wait() == 0, worker.describe()
    lines = json_lines(worker.stderr())
    assert all({"ts", "level", "logger", "message"} <= set(line) for line in lines)
    assert any(line["message"].startswith("worker metrics on http://") for line in lines)
    about_case = [line for line in lines if grievance.case_id in line["message"]]
    assert about_case, worker.stderr()[-3000:]
    assert all(line.get("case_id") == grievance.case_id for line in about_case), about_case
    assert "13812345678" not in worker.stderr() and "王女士" not in worker.stderr()


async def test_a_taken_metrics_port_stops_the_worker_with_the_reason(
    processes: Processes, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        worker = await processes.run(
            "worker",
            "--metrics-port",
            str(port),
            env=command_env(
                GRIEVANCE_DATA_DIR=str(tmp_path / "data"), GRIEVANCE_METRICS_HOST="127.0.0.1"
            ),
        )
    assert worker.returncode == 1, worker.describe()
    assert f"error: cannot serve worker metrics on 127.0.0.1:{port}" in worker.stderr()
