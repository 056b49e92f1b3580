"""``grievance up`` supervises its dev server: kill -9 it, and up recovers or gives up loudly.

Acceptance (issue 8): within 15 s of the dev server's death, ``up`` serves again
(a case filed before the kill can be acted on after it) or has exited non-zero
with the reason on stderr. It never sits answering 503.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import httpx
import pytest

from grievance_flow.cli.devserver import CLAIM_PATIENCE
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
from tests.cli.test_up import read_dev_keys, start_up, stop_up, up_args

RECOVERY_PATIENCE = 15.0
"""The acceptance bound: back to serving, or exited with the reason, this soon after a kill."""

RESTARTED = "the Temporal dev server is back"
"""What ``up`` logs once a restarted dev server answers."""


def dev_server_pid(data_dir: Path) -> int | None:
    """The pid of the dev server running on ``data_dir``, if one runs."""
    found = processes_mentioning(str(data_dir / "temporal.db"))
    servers = [int(line.split(":", 1)[0]) for line in found if "start-dev" in line]
    assert len(servers) <= 1, found
    return servers[0] if servers else None


def kill_dev_server(data_dir: Path) -> int:
    """SIGKILL the dev server of ``data_dir``; returns the pid it had."""
    pid = dev_server_pid(data_dir)
    assert pid is not None, "no dev server runs"
    os.kill(pid, signal.SIGKILL)
    return pid


async def wait_for_restart(data_dir: Path, old_pid: int, up: Command, *, restarts: int) -> None:
    """Wait until another dev server than ``old_pid`` runs and ``up`` logged it ready.

    ``restarts`` is how many restarts ``up`` should have logged by then.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + RECOVERY_PATIENCE
    while loop.time() < deadline:
        assert up.returncode is None, up.describe()
        pid = dev_server_pid(data_dir)
        if pid not in (None, old_pid) and up.stderr().count(RESTARTED) == restarts:
            return
        await asyncio.sleep(0.1)
    pytest.fail(f"no new dev server within {RECOVERY_PATIENCE:.0f}s\n{up.describe()}")


async def test_a_killed_dev_server_is_restarted_and_the_case_carries_on(
    processes: Processes, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    port, temporal_port = free_port(), free_temporal_port()
    base_url = f"http://127.0.0.1:{port}"
    up = await start_up(processes, data_dir, port, temporal_port)
    keys = read_dev_keys(data_dir)

    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as http:
        filed = json_object(
            await http.post(
                "/v1/grievances", json=grievance_body(), headers=bearer(keys["hotline"])
            ),
            201,
        )
        case_id = filed["id"]
        json_object(
            await http.post(
                f"/v1/grievances/{case_id}/dispatch",
                json={"category": "city.street-vending"},
                headers=bearer(keys["dispatcher"]),
            ),
            200,
        )

        old_pid = kill_dev_server(data_dir)
        await wait_for_restart(data_dir, old_pid, up, restarts=1)
        await wait_until_healthy(base_url, up, patience=RECOVERY_PATIENCE)

        # The worker's pollers came back too: the action is applied and answered.
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
        assert [event["type"] for event in events.json()] == [
            "reported",
            "suggested",
            "dispatched",
            "accepted",
        ]
    # Still the one dev server on the same ports: stopping up leaves nothing behind.
    await stop_up(up, signal.SIGTERM, data_dir)


async def test_a_hung_dev_server_is_killed_and_restarted(
    processes: Processes, tmp_path: Path
) -> None:
    # Alive but answering nothing (held stopped): up must not wait on it for ever.
    data_dir = tmp_path / "data"
    port, temporal_port = free_port(), free_temporal_port()
    base_url = f"http://127.0.0.1:{port}"
    up = await start_up(processes, data_dir, port, temporal_port)
    keys = read_dev_keys(data_dir)
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as http:
        filed = json_object(
            await http.post(
                "/v1/grievances", json=grievance_body(), headers=bearer(keys["hotline"])
            ),
            201,
        )
        hung = dev_server_pid(data_dir)
        assert hung is not None
        os.kill(hung, signal.SIGSTOP)
        await wait_for_restart(data_dir, hung, up, restarts=1)
        await wait_until_healthy(base_url, up, patience=RECOVERY_PATIENCE)
        dispatched = json_object(
            await http.post(
                f"/v1/grievances/{filed['id']}/dispatch",
                json={"category": "city.street-vending"},
                headers=bearer(keys["dispatcher"]),
            ),
            200,
        )
        assert dispatched["stage"] == "accept"
    assert "has not answered for" in up.stderr(), up.describe()
    await stop_up(up, signal.SIGTERM, data_dir)


async def test_up_gives_up_when_the_dev_server_cannot_come_back(
    processes: Processes, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    port, temporal_port = free_port(), free_temporal_port()
    up = await start_up(processes, data_dir, port, temporal_port)

    # Poison the restart: the database path becomes a directory SQLite cannot open.
    (data_dir / "temporal.db").rename(data_dir / "temporal.db.moved")
    (data_dir / "temporal.db").mkdir()
    kill_dev_server(data_dir)

    code = await up.wait(patience=RECOVERY_PATIENCE)
    assert code == 1, up.describe()
    reason = up.stderr().strip().splitlines()[-1]
    assert reason.startswith("error: the Temporal dev server died"), up.describe()
    assert "could not be restarted" in reason, reason
    assert "unable to open database file" in reason, reason
    assert processes_mentioning(str(data_dir)) == [], "processes outlived 'grievance up'"


async def test_up_gives_up_on_a_dev_server_that_keeps_dying(
    processes: Processes, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    port, temporal_port = free_port(), free_temporal_port()
    base_url = f"http://127.0.0.1:{port}"
    up = await start_up(processes, data_dir, port, temporal_port)

    # Three deaths within a minute are restarted...
    for restarts in (1, 2, 3):
        old_pid = kill_dev_server(data_dir)
        await wait_for_restart(data_dir, old_pid, up, restarts=restarts)
        await wait_until_healthy(base_url, up, patience=RECOVERY_PATIENCE)
    # ...the fourth is one too many.
    kill_dev_server(data_dir)
    code = await up.wait(patience=RECOVERY_PATIENCE)
    assert code == 1, up.describe()
    reason = up.stderr().strip().splitlines()[-1]
    assert reason.startswith("error: the Temporal dev server died 4 times within 60s"), reason
    assert processes_mentioning(str(data_dir)) == [], "processes outlived 'grievance up'"


async def test_up_started_right_after_a_kill_of_up_carries_on(
    processes: Processes, tmp_path: Path
) -> None:
    # kill -9 of up: the kernel kills its dev server too (parent-death signal),
    # at once, even one that could not act on a polite SIGTERM (here: held
    # stopped). So nothing keeps the ports or temporal.db, and a new up on the
    # same dir starts straight away and carries the case on.
    data_dir = tmp_path / "data"
    port, temporal_port = free_port(), free_temporal_port()
    base_url = f"http://127.0.0.1:{port}"
    up = await start_up(processes, data_dir, port, temporal_port)
    keys = read_dev_keys(data_dir)
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as http:
        filed = json_object(
            await http.post(
                "/v1/grievances", json=grievance_body(), headers=bearer(keys["hotline"])
            ),
            201,
        )
        old_server = dev_server_pid(data_dir)
        assert old_server is not None
        os.kill(old_server, signal.SIGSTOP)
        up.send(signal.SIGKILL)
        await up.wait()

        again = await processes.start(*up_args(data_dir, port, temporal_port))
        await wait_until_healthy(base_url, again)
        dispatched = json_object(
            await http.post(
                f"/v1/grievances/{filed['id']}/dispatch",
                json={"category": "city.street-vending"},
                headers=bearer(keys["dispatcher"]),
            ),
            200,
        )
        assert dispatched["stage"] == "accept"
    await stop_up(again, signal.SIGTERM, data_dir)


async def test_a_second_up_on_the_same_data_dir_is_refused(
    processes: Processes, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    first = await start_up(processes, data_dir, free_port(), free_temporal_port())
    # Other ports, so only the data dir is shared: two dev servers on one temporal.db.
    second = await processes.start(*up_args(data_dir, free_port(), free_temporal_port()))
    code = await second.wait(patience=CLAIM_PATIENCE + 15)
    assert code == 1, second.describe()
    assert f"still uses {data_dir}" in second.stderr(), second.describe()
    assert first.returncode is None, first.describe()
    await stop_up(first, signal.SIGTERM, data_dir)
