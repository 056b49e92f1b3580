"""Bare Temporal on the same box: the ceiling the grievance lifecycle is measured against.

A six-stage workflow with nothing of ours in it: it is started with an Update
(update-with-start, as the API files a case) and then takes five more Updates;
each Update runs one activity and answers with a small dict. So a lifecycle is
six Updates plus six activities, as a grievance is filed, dispatched, accepted,
progressed, completed and rechecked. Worker and client share one process; the
dev server is the one ``grievance up`` runs (same binary, same flags), with its
SQLite file in the given directory, so ``--tmp-root /dev/shm`` puts both runs
on tmpfs.

    .venv/bin/python -m benchmarks.bare --cases 300 --concurrency 300 --tmp-root /dev/shm
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio import activity, workflow
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

from benchmarks.cpu import CpuSample, cpu_line
from benchmarks.embedded import free_temporal_port
from grievance_flow.cli.devserver import DevServer

TASK_QUEUE = "bare-lifecycle"
STAGES = ["file", "dispatch", "accept", "progress", "complete", "recheck"]


@activity.defn
async def record_stage(stage: str) -> str:
    """The activity each Update runs: as small as an activity can be."""
    return stage


@workflow.defn
class BareLifecycle:
    """Six Updates, one activity each; the run ends after the last."""

    def __init__(self) -> None:
        self._done = 0

    @workflow.run
    async def run(self) -> int:
        """Wait for the six Updates and their handlers, then end."""
        await workflow.wait_condition(
            lambda: self._done >= len(STAGES) and workflow.all_handlers_finished()
        )
        return self._done

    @workflow.update
    async def act(self, stage: str) -> dict[str, Any]:
        """Run the stage's activity and answer with the new state."""
        await workflow.execute_activity(
            record_stage, stage, start_to_close_timeout=timedelta(seconds=10)
        )
        self._done += 1
        return {"stage": stage, "done": self._done}


@dataclass
class BareResult:
    """What one bare run measured."""

    cases: int
    elapsed: float
    latencies: list[float]
    cpu: dict[str, float]

    @property
    def rate(self) -> float:
        """Lifecycles per second."""
        return self.cases / self.elapsed


async def _one_lifecycle(client: Client, latencies: list[float]) -> None:
    workflow_id = f"bare-{uuid.uuid4().hex}"
    start = WithStartWorkflowOperation(
        BareLifecycle.run,
        id=workflow_id,
        task_queue=TASK_QUEUE,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
    )
    began = time.perf_counter()
    await client.execute_update_with_start_workflow(
        BareLifecycle.act, STAGES[0], start_workflow_operation=start
    )
    latencies.append(time.perf_counter() - began)
    handle = await start.workflow_handle()
    for stage in STAGES[1:]:
        began = time.perf_counter()
        await handle.execute_update(BareLifecycle.act, stage)
        latencies.append(time.perf_counter() - began)
    await handle.result()


async def run_bare(server: DevServer, cases: int, concurrency: int) -> BareResult:
    """Drive ``cases`` bare lifecycles, ``concurrency`` at once, against ``server``."""
    client = await server.connect()
    latencies: list[float] = []
    async with Worker(
        client, task_queue=TASK_QUEUE, workflows=[BareLifecycle], activities=[record_stage]
    ):
        gate = asyncio.Semaphore(concurrency)

        async def bounded() -> None:
            async with gate:
                await _one_lifecycle(client, latencies)

        # One lifecycle first, so the worker's first poll is not timed.
        await bounded()
        before = CpuSample.of_tree(os.getpid())
        began = time.perf_counter()
        await asyncio.gather(*(bounded() for _ in range(cases)))
        elapsed = time.perf_counter() - began
        cpu = CpuSample.of_tree(os.getpid()).since(before)
    return BareResult(cases, elapsed, latencies[len(STAGES) :], cpu)


@contextmanager
def dev_server(data_dir: Path) -> Iterator[DevServer]:
    """The dev server ``grievance up`` runs, on free ports, with its database in ``data_dir``."""
    port = free_temporal_port()
    server = DevServer(data_dir, port=port, ui_port=port + 1000)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def measure_bare(cases: int, concurrency: int, tmp_root: Path | None) -> BareResult:
    """Start a fresh dev server under ``tmp_root``, run the bare load, stop it."""
    with (
        tempfile.TemporaryDirectory(prefix="grievance-bare-", dir=tmp_root) as data_dir,
        dev_server(Path(data_dir)) as server,
    ):
        return asyncio.run(run_bare(server, cases, concurrency))


def main() -> int:
    """Run the bare load and print its rate."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=300)
    parser.add_argument("--tmp-root", type=Path, default=None)
    args = parser.parse_args()
    result = measure_bare(args.cases, args.concurrency, args.tmp_root)
    print(
        f"bare Temporal: {result.rate:.1f} lifecycles/s ({result.cases} in {result.elapsed:.1f}s)"
    )
    print(cpu_line(result.cpu, result.cases))
    return 0


if __name__ == "__main__":
    sys.exit(main())
