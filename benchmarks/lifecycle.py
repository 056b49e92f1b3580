"""Push N cases through the whole lifecycle via the HTTP API of an embedded system.

Starts ``grievance up`` in a temporary data dir on free ports, files N cases as
the hotline and drives each through dispatch → accept → progress → complete →
recheck with the dev keys, C cases at a time, then stops the system with SIGTERM.
Prints cases/s and the p50/p99 latency of each action. With ``--baseline`` it
first runs bare Temporal (:mod:`benchmarks.bare`: six Updates and six
activities per lifecycle, worker and client in one process) on the same kind
of dev server under the same ``--tmp-root``, and prints both rates and their
ratio, so the two are measured in one run on the same machine. With
``--codec-ab`` the grievance lifecycle runs twice, on a system without payload
encryption (``GRIEVANCE_CODEC_KEYS=off``) and on one with it (``up``'s
default), and the codec's cost is printed as the change of the rate (and, with
``--baseline``, of the ratio to bare Temporal).

    .venv/bin/python -m benchmarks.lifecycle --cases 300 --concurrency 20 \
        --baseline --tmp-root /dev/shm
    .venv/bin/python -m benchmarks.lifecycle --cases 300 --concurrency 20 \
        --baseline --codec-ab --tmp-root /dev/shm
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

from benchmarks.bare import measure_bare
from benchmarks.cpu import CpuSample, cpu_line
from benchmarks.embedded import add_system_arguments, embedded_system

STEPS: list[tuple[str, str, dict[str, Any]]] = [
    ("dispatch", "dispatcher", {"category": "build.illegal-construction"}),
    ("accept", "unit", {"note": "签收"}),
    ("progress", "unit", {"note": "已到现场"}),
    ("complete", "unit", {"result": "resolved", "note": "违建已拆除"}),
    ("recheck", "verifier", {"passed": True, "satisfaction": "satisfied"}),
]


async def wait_healthy(http: httpx.AsyncClient, patience: float = 120) -> None:
    """Poll /healthz until the system answers."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        try:
            if (await http.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.25)
    raise SystemExit("the system did not become healthy")


def filing_body() -> dict[str, Any]:
    """The hotline's body for one new case, with an external id of its own."""
    return {
        "external_id": f"BENCH-{uuid.uuid4().hex}",
        "channel": "phone",
        "reporter": {"name": "测试", "phone": "13800000000"},
        "description": "小区楼顶有人私搭乱建，在天台上盖了一间铁皮房",
        "location": {"address": "湖滨路1号", "grid": "grid-1"},
    }


async def one_case(
    http: httpx.AsyncClient, keys: dict[str, Any], latencies: dict[str, list[float]]
) -> None:
    """File one case and drive it to closed, timing each call."""
    body = filing_body()
    auth = {"Authorization": f"Bearer {keys['hotline']}"}
    started = time.perf_counter()
    response = await http.post("/v1/grievances", json=body, headers=auth)
    latencies["file"].append(time.perf_counter() - started)
    response.raise_for_status()
    case = response.json()
    for action, role, payload in STEPS:
        key = keys["units"][case["unit"]] if role == "unit" else keys[role]
        started = time.perf_counter()
        response = await http.post(
            f"/v1/grievances/{case['id']}/{action}",
            json=payload,
            headers={"Authorization": f"Bearer {key}"},
        )
        latencies[action].append(time.perf_counter() - started)
        response.raise_for_status()
        case = response.json()
    assert case["stage"] == "closed", case


def percentile(values: list[float], fraction: float) -> float:
    """The ``fraction`` quantile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def row(name: str, values: list[float]) -> str:
    """One table line: p50, p99 and mean in milliseconds."""
    p50, p99 = percentile(values, 0.5) * 1000, percentile(values, 0.99) * 1000
    return f"{name:<10} {p50:8.1f} {p99:8.1f} {statistics.fmean(values) * 1000:8.1f}"


async def drive(base_url: str, keys: dict[str, Any], cases: int, concurrency: int) -> float:
    """Run the load, print the figures and return the rate in cases/s."""
    latencies: dict[str, list[float]] = defaultdict(list)
    limits = httpx.Limits(max_connections=concurrency * 2)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as http:
        await wait_healthy(http)
        gate = asyncio.Semaphore(concurrency)

        async def bounded() -> None:
            async with gate:
                await one_case(http, keys, latencies)

        before = CpuSample.of_tree(os.getpid())
        started = time.perf_counter()
        await asyncio.gather(*(bounded() for _ in range(cases)))
        elapsed = time.perf_counter() - started
        cpu = CpuSample.of_tree(os.getpid()).since(before)
    every = [value for values in latencies.values() for value in values]
    print(f"cases: {cases}, concurrency: {concurrency}, elapsed: {elapsed:.1f}s")
    print(f"throughput: {cases / elapsed:.1f} cases/s ({len(every) / elapsed:.1f} requests/s)")
    print(f"{'call':<10} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    for name in ["file", *(step[0] for step in STEPS)]:
        print(row(name, latencies[name]))
    print(row("all", every))
    print(cpu_line(cpu, cases))
    return cases / elapsed


def main() -> int:
    """Start the embedded system, run the load, stop the system."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    add_system_arguments(parser)
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="first run bare Temporal on the same kind of dev server, then print the ratio",
    )
    parser.add_argument(
        "--baseline-concurrency",
        type=int,
        default=300,
        help="lifecycles at once in the bare run (default 300: its best on 2 cores)",
    )
    parser.add_argument(
        "--codec-ab",
        action="store_true",
        help="also run the lifecycle on a system without payload encryption, first",
    )
    args = parser.parse_args()
    bare_rate = None
    if args.baseline:
        bare = measure_bare(args.cases, args.baseline_concurrency, args.tmp_root)
        bare_rate = bare.rate
        print(
            f"bare Temporal: {bare.rate:.1f} lifecycles/s ({bare.cases} in {bare.elapsed:.1f}s, "
            f"{args.baseline_concurrency} at once)"
        )
        print(cpu_line(bare.cpu, bare.cases))
    layout = "up's default" if args.workers is None else f"--workers {args.workers}"
    systems = [("without the codec", {"GRIEVANCE_CODEC_KEYS": "off"})] if args.codec_ab else []
    systems.append(("with the codec" if args.codec_ab else "grievance-flow", {}))
    rates: dict[str, float] = {}
    for name, env in systems:
        with (
            tempfile.TemporaryDirectory(prefix="grievance-bench-", dir=args.tmp_root) as data_dir,
            embedded_system(Path(data_dir), workers=args.workers, env=env) as system,
        ):
            keys = json.loads(system.keys_file.read_text("utf-8"))
            print(f"-- {name}")
            rates[name] = asyncio.run(drive(system.api_url, keys, args.cases, args.concurrency))
        if bare_rate is not None:
            rate = rates[name]
            print(
                f"ratio to bare Temporal ({name}): {rate / bare_rate:.2f} "
                f"({rate:.1f} / {bare_rate:.1f}, {layout})"
            )
    if args.codec_ab:
        plain, sealed = rates["without the codec"], rates["with the codec"]
        print(
            f"codec cost: {sealed:.2f} vs {plain:.2f} cases/s, "
            f"{100 * (sealed - plain) / plain:+.1f} % with payload encryption"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
