"""``grievance up``: the whole system in one command, restartable, stopped cleanly (SPEC §5)."""

from __future__ import annotations

import json
import signal
import socket
import stat
from pathlib import Path
from typing import Any

import httpx

from tests.api.helpers import grievance_body
from tests.cli.conftest import (
    Command,
    Processes,
    bearer,
    free_port,
    free_temporal_port,
    json_object,
    processes_mentioning,
    wait_until_healthy,
)

ROLES = ("hotline", "dispatcher", "verifier", "auditor", "admin")


def read_dev_keys(data_dir: Path) -> dict[str, Any]:
    path = data_dir / "dev-keys.json"
    assert path.is_file(), f"{path} was not written"
    # It holds live credentials: readable by its owner only.
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    keys: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return keys


def up_args(data_dir: Path, port: int, temporal_port: int) -> list[str]:
    """``grievance up`` on its own data dir and ports."""
    return [
        "up",
        "--data-dir",
        str(data_dir),
        "--port",
        str(port),
        "--temporal-port",
        str(temporal_port),
    ]


async def start_up(processes: Processes, data_dir: Path, port: int, temporal_port: int) -> Command:
    up = await processes.start(*up_args(data_dir, port, temporal_port))
    await wait_until_healthy(f"http://127.0.0.1:{port}", up)
    return up


async def stop_up(up: Command, sig: signal.Signals, data_dir: Path) -> None:
    """Signal ``up``; it must exit 0 and leave no process behind that uses ``data_dir``."""
    up.send(sig)
    code = await up.wait()
    assert code == 0, up.describe()
    assert processes_mentioning(str(data_dir)) == [], "processes outlived 'grievance up'"


async def test_up_runs_a_case_survives_restart_and_stops_cleanly(
    processes: Processes, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    port, temporal_port = free_port(), free_temporal_port()
    base_url = f"http://127.0.0.1:{port}"

    # First run: a fresh data dir gets its keys, and a case reaches the unit.
    up = await start_up(processes, data_dir, port, temporal_port)
    keys = read_dev_keys(data_dir)
    for role in ROLES:
        assert str(keys[role]).startswith("gf_"), role
    assert str(keys["units"]["grid-1"]).startswith("gf_")

    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as http:
        filed = json_object(
            await http.post(
                "/v1/grievances", json=grievance_body(), headers=bearer(keys["hotline"])
            ),
            201,
        )
        assert filed["stage"] == "classify"
        case_id = filed["id"]
        dispatched = json_object(
            await http.post(
                f"/v1/grievances/{case_id}/dispatch",
                json={"category": "city.street-vending"},
                headers=bearer(keys["dispatcher"]),
            ),
            200,
        )
        assert (dispatched["stage"], dispatched["unit"]) == ("accept", "grid-1")
        assert (await http.get("/docs")).status_code == 200
        ui = await http.get(f"http://127.0.0.1:{temporal_port + 1000}/")
        assert ui.status_code == 200, "the Temporal Web UI does not answer"

    await stop_up(up, signal.SIGTERM, data_dir)
    announced = up.stdout()
    for address in (
        f"http://127.0.0.1:{port}/v1",
        f"http://127.0.0.1:{port}/docs",
        f"http://127.0.0.1:{temporal_port + 1000}",
    ):
        assert address in announced, announced

    # Second run on the same dir: same keys, and the open case carries on.
    up = await start_up(processes, data_dir, port, temporal_port)
    assert read_dev_keys(data_dir) == keys

    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as http:
        case = json_object(
            await http.get(f"/v1/grievances/{case_id}", headers=bearer(keys["dispatcher"])), 200
        )
        assert (case["stage"], case["unit"]) == ("accept", "grid-1")
        accepted = json_object(
            await http.post(
                f"/v1/grievances/{case_id}/accept",
                json={},
                headers=bearer(keys["units"]["grid-1"]),
            ),
            200,
        )
        assert accepted["stage"] == "handle"
        events = await http.get(f"/v1/grievances/{case_id}/events", headers=bearer(keys["auditor"]))
        assert events.status_code == 200, events.text
        # Exactly these: the restart neither lost nor repeated a step.
        assert [event["type"] for event in events.json()] == [
            "reported",
            "suggested",
            "dispatched",
            "accepted",
        ]

    await stop_up(up, signal.SIGINT, data_dir)


async def test_up_refuses_a_busy_port(processes: Processes, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port, temporal_port = free_port(), free_temporal_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        up = await processes.start(*up_args(data_dir, port, temporal_port))
        code = await up.wait(patience=15.0)
    assert code != 0, up.describe()
    assert str(port) in up.stderr(), up.describe()
    assert processes_mentioning(str(data_dir)) == [], "a dev server was started anyway"
