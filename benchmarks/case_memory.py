"""What one cached open case costs a worker's memory, and where it goes.

Starts a dev server (in memory) and one worker in this process, as ``grievance
worker`` builds it (unsandboxed unless ``--sandbox``; a read model in a
temporary directory), files ``--warm`` cases to load the code paths, then N
more (``--concurrency`` at a time) and leaves them all open and cached in
classify. Prints this process's RSS before and after, and KiB per open case.

With ``--trace F`` it also runs ``tracemalloc`` over the N cases and prints the
Python allocations they kept (KiB and blocks per case) by file, top F, and
their total: what the Python heap holds per case, against the RSS, which also
counts the SDK core's (Rust) state per run. Tracing slows the workflow tasks
and its own bookkeeping adds to the RSS, so the RSS line of a traced run is
not the figure to report.

    .venv/bin/python -m benchmarks.case_memory --cases 1000
    .venv/bin/python -m benchmarks.case_memory --cases 300 --trace 20
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import tempfile
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.testing import WorkflowEnvironment

from benchmarks.intakes import waiting_intake
from benchmarks.rss import rss_kib
from grievance_flow import search_attributes
from grievance_flow.binaries import temporal_cli
from grievance_flow.payloads import DATA_CONVERTER
from grievance_flow.runtime import load_domain
from grievance_flow.store.engine import make_engine, migrate, sqlite_url_for
from grievance_flow.worker import build_worker
from grievance_flow.workflows.grievance import GrievanceWorkflow

TASK_QUEUE = "case-memory"


async def file_case(client: Client) -> None:
    """File one case and wait until its intake is recorded."""
    intake = waiting_intake("MEM")
    start = WithStartWorkflowOperation(
        GrievanceWorkflow.run,
        intake,
        id=intake.case_id,
        task_queue=TASK_QUEUE,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
    )
    await client.execute_update_with_start_workflow(
        GrievanceWorkflow.intake, start_workflow_operation=start
    )


async def file_cases(client: Client, count: int, concurrency: int) -> None:
    """File ``count`` cases, ``concurrency`` at a time."""
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate:
            await file_case(client)

    await asyncio.gather(*(one() for _ in range(count)))


def own_rss() -> int:
    """This process's RSS in KiB."""
    kib = rss_kib(os.getpid())
    assert kib is not None  # the process reading it is alive
    return kib


async def settle(seconds: float) -> None:
    """Let the cases' projections and notices finish, then collect garbage."""
    await asyncio.sleep(seconds)
    gc.collect()


def trace_lines(
    before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, cases: int, top: int
) -> list[str]:
    """The Python allocations kept per case, by file, largest first."""
    stats = after.compare_to(before, "filename")
    total = sum(stat.size_diff for stat in stats)
    lines = [f"python heap kept: {total / 1024 / cases:.1f} KiB per case (tracemalloc)"]
    for stat in stats[:top]:
        lines.append(
            f"  {stat.size_diff / 1024 / cases:7.2f} KiB {stat.count_diff / cases:7.1f} blocks"
            f"  {stat.traceback[0].filename}"
        )
    return lines


async def measure(args: argparse.Namespace) -> list[str]:
    """Run the measurement; return the lines to print."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli()),
        search_attributes=search_attributes.ALL,
        dev_server_log_level="error",
        data_converter=DATA_CONVERTER,
    )
    try:
        with tempfile.TemporaryDirectory(prefix="case-memory-") as data_dir:
            engine = make_engine(sqlite_url_for(Path(data_dir)))
            migrate(engine)
            worker = build_worker(
                env.client,
                domain=load_domain(None),
                engine=engine,
                task_queue=TASK_QUEUE,
                executor=ThreadPoolExecutor(8),
                workflow_cache=args.cases + args.warm + 100,
                sandboxed=args.sandbox,
            )
            async with worker:
                await file_cases(env.client, args.warm, args.concurrency)
                await settle(args.settle)
                if args.trace:
                    tracemalloc.start(1)
                before_rss = own_rss()
                before = tracemalloc.take_snapshot() if args.trace else None
                await file_cases(env.client, args.cases, args.concurrency)
                await settle(args.settle)
                after_rss = own_rss()
                lines = [
                    f"worker ({'sandboxed' if args.sandbox else 'unsandboxed'}) RSS "
                    f"{before_rss / 1024:.0f} -> {after_rss / 1024:.0f} MiB with {args.cases} "
                    f"more cases open and cached: {(after_rss - before_rss) / args.cases:.1f} KiB "
                    "per case" + (" (traced: not the figure to report)" if args.trace else "")
                ]
                if before is not None:
                    lines += trace_lines(
                        before, tracemalloc.take_snapshot(), args.cases, args.trace
                    )
                    tracemalloc.stop()
            engine.dispose()
    finally:
        await env.shutdown()
    return lines


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--warm", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--settle", type=float, default=5.0, help="seconds to wait before reading")
    parser.add_argument(
        "--trace", type=int, default=0, metavar="F", help="tracemalloc, top F files"
    )
    parser.add_argument("--sandbox", action="store_true", help="run the workflows sandboxed")
    args = parser.parse_args(argv)
    for line in asyncio.run(measure(args)):
        print(line, flush=True)


if __name__ == "__main__":
    main()
