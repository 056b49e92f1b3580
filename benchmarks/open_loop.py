"""Open-loop load on an embedded system: R lifecycle calls per second on a fixed schedule.

Starts ``grievance up`` in a temporary data dir and drives it over HTTP with the
dev keys. An *action* is any one call: file (hotline), dispatch, accept,
progress, complete or recheck. The schedule is built like this:

- Slot k is at ``t0 + k / R`` for k = 0, 1, ..., (warmup + duration)·R − 1: one
  action per slot, ``R`` actions per second in total, whatever the answers do.
- A case whose last call was answered (2xx) joins the back of a *ready* queue
  with its next step due. Every sixth slot (k = 0, 6, 12, ...) files a new
  case; every other slot takes the front of the ready queue and sends its
  step, or files a new case if the queue is empty. So each step of a case goes
  out at the first step slot after the previous answer (its wait in the queue
  is the case's think time, not latency), and at least one call in six is a
  filing, the lifecycle's own mix, even while a backlog of cases in flight
  would otherwise take every slot.
- A case whose call failed leaves the run (the failure is counted); one whose
  recheck is answered is done.

Each send is launched as its own task at its slot, never waiting for earlier
answers (there is no concurrency gate): a slow system gets more calls in flight,
not fewer calls. Latency is measured from the slot's time, so any queueing in
the client counts; service time is measured from the actual send. The
generator's lag (actual send − slot) is printed with its CPU share and judged:
if it is large, the figures are partly the generator's or the machine's. Slots
in the first ``--warmup`` seconds are sent but not measured. At the end it
prints the achieved rate, latency quantiles for ``file``, for ``action`` (every
other call together) and per call, errors by status, CPU ms per action per
process during the measured window, and PASS/FAIL for the targets (action p99 ≤
100 ms, file p99 ≤ 150 ms, from the schedule). It exits 0 either way.

    .venv/bin/python -m benchmarks.open_loop --rate 20 --duration 120 --tmp-root /dev/shm
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.cpu import CpuSample, cpu_line
from benchmarks.embedded import add_system_arguments, embedded_system
from benchmarks.lifecycle import wait_healthy
from benchmarks.load import (
    CALLS,
    Caller,
    Timings,
    client,
    errors_line,
    lag_line,
    latency_table,
    sleep_until,
    verdict,
)

ACTIONS = CALLS[1:]
"""Every call but ``file``: the targets' "action"."""

ACTION_P99_MS = 100.0
FILE_P99_MS = 150.0


@dataclass
class OpenLoopOptions:
    """One run: the rate, the windows and the embedded system's layout."""

    rate: float = 20.0
    duration: float = 120.0
    warmup: float = 10.0
    tmp_root: Path | None = None
    workers: int | None = None
    connections: int = 500
    drain: float = 60.0


@dataclass
class OpenLoop:
    """The scheduler's state: the ready queue, the calls in flight, the counts."""

    caller: Caller
    options: OpenLoopOptions
    measured: Timings = field(default_factory=Timings)
    every: Timings = field(default_factory=Timings)
    ready: deque[tuple[dict[str, Any], int]] = field(default_factory=deque)
    in_flight: set[asyncio.Task[None]] = field(default_factory=set)
    filed: int = 0
    closed: int = 0

    async def step(
        self, case: dict[str, Any] | None, index: int, slot: float, measure: bool
    ) -> None:
        """Send call ``index`` of ``case`` due at ``slot``; queue its next step if answered."""
        into = [self.every, self.measured] if measure else [self.every]
        answer = await self.caller.call(CALLS[index], case, slot, into)
        if answer.case is None:
            return
        if index + 1 < len(CALLS):
            self.ready.append((answer.case, index + 1))
        else:
            self.closed += 1

    async def run(self) -> tuple[CpuSample, CpuSample, float, float]:
        """Run the schedule; CPU samples at the window's start and end, and its moments."""
        rate, options = self.options.rate, self.options
        slots = round((options.warmup + options.duration) * rate)
        first_measured = round(options.warmup * rate)
        t0 = time.perf_counter() + 0.1
        window = (t0 + options.warmup, t0 + options.warmup + options.duration)
        before: CpuSample | None = None
        for k in range(slots):
            slot = t0 + k / rate
            await sleep_until(slot)
            measure = k >= first_measured
            if measure and before is None:
                before = CpuSample.of_tree(os.getpid())
            if k % len(CALLS) and self.ready:
                case, index = self.ready.popleft()
            else:
                case, index = None, 0
                self.filed += 1
            task = asyncio.create_task(self.step(case, index, slot, measure))
            self.in_flight.add(task)
            task.add_done_callback(self.in_flight.discard)
        await sleep_until(window[1])
        after = CpuSample.of_tree(os.getpid())
        if self.in_flight:
            _, pending = await asyncio.wait(set(self.in_flight), timeout=options.drain)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        return before or after, after, *window


def report(
    loop: OpenLoop, before: CpuSample, after: CpuSample, start: float, end: float
) -> list[str]:
    """The figures of a finished run, as lines."""
    options, measured = loop.options, loop.measured
    pid = os.getpid()
    core_share = (after.seconds[pid] - before.seconds[pid]) / options.duration
    launched = measured.count() + measured.errors["unanswered"]
    # Rates by the moments sends and answers actually happened in the window.
    sent = sum(1 for moment in loop.every.sent if start <= moment < end)
    answered = sum(1 for moment in loop.every.answered if start <= moment < end)
    file_latency, _ = measured.pooled(["file"])
    action_latency, _ = measured.pooled(ACTIONS)
    return [
        f"open loop: target {options.rate:.1f} actions/s for {options.duration:.0f}s "
        f"after {options.warmup:.0f}s warmup",
        f"achieved: {sent / options.duration:.2f} actions/s sent, "
        f"{answered / options.duration:.2f} answered/s in the window "
        f"({launched} actions scheduled in it)",
        f"cases: {loop.filed} filed, {loop.closed} closed, "
        f"{len(loop.ready)} waiting for a slot at the end",
        *latency_table(
            measured,
            [("file", ["file"]), ("action", ACTIONS), *((name, [name]) for name in ACTIONS)],
        ),
        errors_line(measured),
        lag_line(measured, core_share),
        cpu_line(after.since(before), max(launched, 1), unit="action"),
        verdict("action", action_latency, ACTION_P99_MS),
        verdict("file", file_latency, FILE_P99_MS),
    ]


async def drive(base_url: str, keys: dict[str, Any], options: OpenLoopOptions) -> list[str]:
    """Wait for the system, run the schedule and return the report."""
    async with client(base_url, options.connections) as http:
        await wait_healthy(http)
        loop = OpenLoop(Caller(http, keys), options)
        before, after, start, end = await loop.run()
    return report(loop, before, after, start, end)


def main() -> int:
    """Start the embedded system, run the open-loop load, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=20.0, help="actions per second in total")
    parser.add_argument("--duration", type=float, default=120.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=10.0, help="unmeasured seconds first")
    add_system_arguments(parser)
    parser.add_argument(
        "--connections", type=int, default=500, help="HTTP connections the client may open"
    )
    parser.add_argument(
        "--drain", type=float, default=60.0, help="seconds to wait for answers after the window"
    )
    args = parser.parse_args()
    options = OpenLoopOptions(
        rate=args.rate,
        duration=args.duration,
        warmup=args.warmup,
        tmp_root=args.tmp_root,
        workers=args.workers,
        connections=args.connections,
        drain=args.drain,
    )
    with (
        tempfile.TemporaryDirectory(prefix="grievance-bench-", dir=options.tmp_root) as data_dir,
        embedded_system(Path(data_dir), workers=options.workers) as system,
    ):
        keys = json.loads(system.keys_file.read_text("utf-8"))
        lines = asyncio.run(drive(system.api_url, keys, options))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
