"""Metrics and JSON logs of the served processes: ``grievance up`` and ``grievance api``.

``up`` runs its worker in-process, so ``GRIEVANCE_METRICS_PORT`` gives it the
worker's endpoint beside the API's ``/metrics``. ``grievance api`` with JSON
logs writes its access lines as JSON too, tagged with the case they are about.
"""

from __future__ import annotations

import json
import signal
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from temporalio.testing import WorkflowEnvironment

from grievance_flow.metric_names import HTTP_REQUESTS
from tests.api.helpers import grievance_body
from tests.cli.conftest import (
    Processes,
    bearer,
    command_env,
    free_port,
    free_temporal_port,
    json_object,
    printed_key,
    wait_until_healthy,
)
from tests.cli.test_up import up_args


def json_lines(stderr: str) -> list[dict[str, Any]]:
    """Every line of ``stderr`` as JSON; fails on the first that is not."""
    parsed = []
    for line in stderr.splitlines():
        if not line.strip():
            continue
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"a log line is not JSON: {line!r}")
    return parsed


def family_names(text: str) -> set[str]:
    return {family.name for family in text_string_to_metric_families(text)}


async def test_up_serves_worker_metrics_beside_the_api(
    processes: Processes, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    port, temporal_port, metrics_port = free_port(), free_temporal_port(), free_port()
    up = await processes.start(
        *up_args(data_dir, port, temporal_port),
        env=command_env(
            GRIEVANCE_METRICS_PORT=str(metrics_port),
            GRIEVANCE_METRICS_HOST="127.0.0.1",
            GRIEVANCE_LOG_FORMAT="json",
        ),
    )
    base_url = f"http://127.0.0.1:{port}"
    await wait_until_healthy(base_url, up)
    keys = json.loads((data_dir / "dev-keys.json").read_text("utf-8"))
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as http:
        filed = json_object(
            await http.post(
                "/v1/grievances", json=grievance_body(), headers=bearer(keys["hotline"])
            ),
            201,
        )
        ready = json_object(await http.get("/readyz"), 200)  # up's own worker polls
        assert ready["checks"]["worker"] == "ok"
        api_metrics = (await http.get("/metrics")).text
        worker_metrics = (await http.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
    assert f"# TYPE {HTTP_REQUESTS} counter" in api_metrics
    assert 'route="/v1/grievances"' in api_metrics
    assert {"temporal_num_pollers", "temporal_workflow_task_execution_latency"} <= family_names(
        worker_metrics
    )
    assert filed["id"] not in api_metrics + worker_metrics

    up.send(signal.SIGINT)
    assert await up.wait() == 0, up.describe()
    lines = json_lines(up.stderr())
    assert lines and all({"ts", "level", "logger", "message"} <= set(line) for line in lines)
    assert all(
        line.get("case_id") == filed["id"] for line in lines if filed["id"] in line["message"]
    )


async def test_api_access_lines_are_json_with_the_case_id(
    processes: Processes, tmp_path: Path, dev_env: WorkflowEnvironment
) -> None:
    env = command_env(
        TEMPORAL_ADDRESS=dev_env.client.service_client.config.target_host,
        DATABASE_URL=f"sqlite:///{tmp_path / 'rm.db'}",
        GRIEVANCE_TASK_QUEUE=f"nobody-{uuid.uuid4()}",
        GRIEVANCE_LOG_FORMAT="json",
    )
    auditor = printed_key(await processes.run("keys", "create", "--role", "auditor", env=env))
    port = free_port()
    api = await processes.start("api", "--port", str(port), env=env)
    await wait_until_healthy(f"http://127.0.0.1:{port}", api)
    case_id = f"grievance-never-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30.0) as http:
        missing = await http.get(f"/v1/grievances/{case_id}", headers=bearer(auditor))
        assert missing.status_code == 404, missing.text
        not_ready = await http.get("/readyz")
        assert not_ready.status_code == 503
        assert not_ready.json()["checks"]["worker"].startswith("missing: ")

    api.send(signal.SIGTERM)
    assert await api.wait() == 0, api.describe()
    lines = json_lines(api.stderr())
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    about_case = [line for line in access if case_id in line["message"]]
    assert about_case, api.stderr()[-3000:]
    assert all(line["case_id"] == case_id for line in about_case)
    assert all("case_id" not in line for line in access if "/readyz" in line["message"])
