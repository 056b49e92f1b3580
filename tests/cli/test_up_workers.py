"""``grievance up --workers N``: the API and N worker processes, supervised (SPEC §8, issue 9).

The children are real ``grievance worker`` processes; these tests find them as
``up``'s children in /proc, kill them, and watch ``up`` restart them, give up on
them, or take them along when it stops or is killed.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from benchmarks.faults import Driver
from tests.cli.conftest import Command, Processes, free_port, free_temporal_port, wait_until_healthy
from tests.cli.test_up import read_dev_keys, up_args

WORKER = "grievance_flow.cli.main worker"
"""What a worker child's command line contains."""

POLLING = "worker polling"
"""What a worker logs once it polls the task queue."""

PATIENCE = 30.0


def worker_children(parent: int) -> list[int]:
    """The pids of ``parent``'s live worker children."""
    found = []
    for task in Path(f"/proc/{parent}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            try:
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if WORKER.encode() in cmdline:
                found.append(child)
    return sorted(found)


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting to be reaped does not count)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


async def wait_for(what: str, up: Command, check: object, *, patience: float = PATIENCE) -> None:
    """Wait until ``check()`` is true; fail with ``up``'s output if it never is."""
    assert callable(check)
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        if check():
            return
        await asyncio.sleep(0.1)
    pytest.fail(f"not within {patience:.0f}s: {what}\n{up.describe()}")


async def start_up_with_workers(
    processes: Processes, data_dir: Path, workers: int
) -> tuple[Command, str]:
    """``up --workers N``, serving, with all N children polling; returns it and its URL."""
    port, temporal_port = free_port(), free_temporal_port()
    up = await processes.start(*up_args(data_dir, port, temporal_port), "--workers", str(workers))
    base_url = f"http://127.0.0.1:{port}"
    await wait_until_healthy(base_url, up)
    await wait_for(f"{workers} workers polling", up, lambda: up.stderr().count(POLLING) == workers)
    assert len(worker_children(up.pid)) == workers, up.describe()
    return up, base_url


async def test_up_with_two_worker_processes_closes_cases_through_a_child_crash(
    processes: Processes, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    up, base_url = await start_up_with_workers(processes, data_dir, 2)
    assert "workers      2 processes" in up.stdout(), up.describe()
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as http:
        driver = Driver(http, read_dev_keys(data_dir), run_id=f"workers-{os.getpid()}")
        await driver.one_case(0)

        before = worker_children(up.pid)
        os.kill(before[0], signal.SIGKILL)
        await wait_for(
            "the killed worker replaced",
            up,
            lambda: len(children := worker_children(up.pid)) == 2 and before[0] not in children,
        )
        await wait_for("the new worker polling", up, lambda: up.stderr().count(POLLING) == 3)
        assert "died (exit status -9); restarting it" in up.stderr(), up.describe()

        # Cases still close, with either worker taking their tasks.
        await asyncio.gather(*(driver.one_case(index) for index in range(1, 5)))
        assert driver.closed == 5

    children = worker_children(up.pid)
    # Ctrl-C in a terminal: SIGINT to the whole process group, children included.
    os.killpg(up.pid, signal.SIGINT)
    assert await up.wait() == 0, up.describe()
    assert not [pid for pid in children if alive(pid)], "worker processes outlived 'up'"
    assert "worker stopped" in up.stderr(), "the workers did not drain"


async def test_worker_processes_die_with_a_killed_up(processes: Processes, tmp_path: Path) -> None:
    up, _ = await start_up_with_workers(processes, tmp_path / "data", 1)
    children = worker_children(up.pid)
    up.send(signal.SIGKILL)
    await up.wait()
    await wait_for("the worker gone after kill -9 of up", up, lambda: not any(map(alive, children)))


async def test_up_gives_up_on_a_worker_process_that_keeps_dying(
    processes: Processes, tmp_path: Path
) -> None:
    port, temporal_port = free_port(), free_temporal_port()
    up = await processes.start(*up_args(tmp_path / "data", port, temporal_port), "--workers", "1")
    await wait_until_healthy(f"http://127.0.0.1:{port}", up)
    killed: set[int] = set()
    # Three deaths within a minute are restarted; the fourth is one too many.
    for _ in range(4):
        await wait_for(
            "a worker process to kill",
            up,
            lambda: bool(set(worker_children(up.pid)) - killed) or up.returncode is not None,
        )
        for pid in set(worker_children(up.pid)) - killed:
            os.kill(pid, signal.SIGKILL)
            killed.add(pid)
    assert await up.wait() == 1, up.describe()
    reason = up.stderr().strip().splitlines()[-1]
    assert reason.startswith("error: worker process 1 died 4 times within 60s"), reason
    assert not any(map(alive, killed))


async def test_workers_0_runs_the_worker_in_the_api_process(
    processes: Processes, tmp_path: Path
) -> None:
    port, temporal_port = free_port(), free_temporal_port()
    up = await processes.start(*up_args(tmp_path / "data", port, temporal_port), "--workers", "0")
    await wait_until_healthy(f"http://127.0.0.1:{port}", up)
    await wait_for("the announcement", up, lambda: "grievance-flow is up" in up.stdout())
    assert "workers      in the API's process" in up.stdout(), up.describe()
    assert worker_children(up.pid) == []
    up.send(signal.SIGINT)
    assert await up.wait() == 0, up.describe()
    # Once, when the API had started: the worker beside it was built by then.
    assert up.stderr().count("start-up heap frozen") == 1, up.describe()
