"""Keep N cases open with live SLA clocks on an embedded system and time their escalations.

Writes a catalogue whose classify clock is M minutes in every SLA class, whose
``escalate_after`` is E minutes and which auto-dispatches nothing, starts
``grievance up`` on it in a temporary data dir, files N cases over HTTP as the
hotline and leaves them alone in classify. Each then warns at 0.8·M, goes
overdue (and is chased) at M and is escalated to the command centre at M+E.
Meanwhile the RSS of the ``grievance up`` process (worker + API) and of its
Temporal dev server is sampled. Once every case has escalated, prints how late
each step fired against its planned time (from the read model), the RSS figures
and the elapsed times, and stops the system with SIGTERM.

    .venv/bin/python -m benchmarks.clocks --cases 10000
    .venv/bin/python -m benchmarks.clocks --cases 200 --classify-minutes 1 --escalate-minutes 1
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

from benchmarks.embedded import embedded_system
from benchmarks.lifecycle import percentile, wait_healthy
from grievance_flow.catalogue.loader import read_catalogue_data

CLOCK = "classify"
"""The clock every benchmark case runs: nobody dispatches them."""

STEPS: tuple[tuple[str, str], ...] = (
    ("sla_warning", "warn_at"),
    ("sla_overdue", "due_at"),
    ("escalated", "escalate_at"),
)
"""Each SLA event type and the deadline field it is planned for."""

GRIDS = [f"grid-{n}" for n in range(1, 9)]

DESCRIPTIONS = [
    "小区门口每天晚上都有流动摊贩占道经营，堵住了人行道，行人只能走机动车道",
    "楼下广场舞音响声音太大，晚上十点以后还在跳，严重扰民，老人孩子休息不好",
    "单元门口的垃圾桶已经满溢两天了，没有人来清运，气味很大还招苍蝇",
    "小区消防通道被私家车长期占用，违停车辆挡住出口，万一着火消防车进不来",
    "我们楼从早上开始停水，物业说不清楚原因，家里有老人，请尽快恢复供水",
    "路口的路灯坏了一个多星期，晚上很黑，井盖也松动了，担心有人摔倒",
    "想咨询一下孩子上小学的入学登记需要准备哪些材料，到哪里办理",
    "楼道里有人飞线充电，电动车停在楼梯口，存在很大的火灾隐患",
]

ADDRESSES = ["湖滨路12号", "东园小区3号楼", "岭南大街88号", "松林路5号院", "东湖商业街17号"]


def write_catalogue(path: Path, classify_minutes: int, escalate_minutes: int) -> None:
    """The bundled catalogue with every classify clock and ``escalate_after`` in minutes.

    Auto-dispatch is switched off, so a confident suggestion does not take a case
    past classify: every case waits there for a dispatcher who never comes.
    """
    data, _ = read_catalogue_data()
    for sla_class in data["sla_classes"].values():
        sla_class["classify"] = {"minutes": classify_minutes}
    data["policy"]["escalate_after"] = {"minutes": escalate_minutes}
    for category in data["categories"]:
        category["auto_dispatch"] = False
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")


# --- memory -------------------------------------------------------------------------


def rss_kib(pid: int) -> int | None:
    """VmRSS of ``pid`` in KiB, or None once the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def child_pids(pid: int) -> list[int]:
    """The direct children of ``pid`` (over all of its threads)."""
    found: list[int] = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found.extend(int(child) for child in children.read_text().split())
        except (OSError, ValueError):
            continue
    return found


def find_dev_server(up_pid: int, data_dir: str) -> int | None:
    """The Temporal dev server that ``grievance up`` started for ``data_dir``."""
    candidates = child_pids(up_pid)
    if not candidates:  # fall back to a scan, e.g. where children files are missing
        candidates = [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]
    for pid in candidates:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"start-dev" in cmdline and any(data_dir.encode() in part for part in cmdline):
            return pid
    return None


@dataclass
class RssSampler:
    """Samples the RSS of the ``grievance up`` process and its dev server; keeps the peaks."""

    up_pid: int
    data_dir: str
    temporal_pid: int | None = None
    peak_up: int = 0
    peak_temporal: int = 0
    samples: int = 0

    def sample(self) -> tuple[int, int]:
        """Take one sample now: (up, temporal) in KiB, 0 for a process not found."""
        if self.temporal_pid is None or rss_kib(self.temporal_pid) is None:
            self.temporal_pid = find_dev_server(self.up_pid, self.data_dir)
        up = rss_kib(self.up_pid) or 0
        temporal = 0
        if self.temporal_pid is not None:
            temporal = rss_kib(self.temporal_pid) or 0
        self.peak_up = max(self.peak_up, up)
        self.peak_temporal = max(self.peak_temporal, temporal)
        self.samples += 1
        return up, temporal

    async def run(self, every: float) -> None:
        """Sample every ``every`` seconds until cancelled."""
        while True:
            self.sample()
            await asyncio.sleep(every)


def mib(kib: int) -> str:
    """KiB as MiB, one decimal."""
    return f"{kib / 1024:7.1f}"


# --- filing ---------------------------------------------------------------------------


@dataclass
class Filing:
    """What filing the cases cost."""

    latencies: list[float] = field(default_factory=list)
    finished: list[float] = field(default_factory=list)
    """perf_counter() at which each case's filing was answered, in answer order."""
    retries: Counter[str] = field(default_factory=Counter)
    """Retried attempts by cause: an HTTP status (503: no worker in time) or an httpx error."""
    unclassified: int = 0
    """Cases whose (repeated) filing answered before the intake finished (still in report)."""
    elapsed: float = 0.0
    began: float = 0.0


async def file_one(
    http: httpx.AsyncClient, key: str, run: str, number: int, filing: Filing, patience: float
) -> None:
    """File case ``number`` like a hotline client would.

    A 5xx (503: no worker confirmed the intake in time) or a dropped connection
    is retried with backoff for up to ``patience`` seconds: intake is idempotent
    on ``external_id``, and the 503 says filing again is safe.
    """
    body = {
        "external_id": f"CLK-{run}-{number:06d}",
        "channel": "phone" if number % 5 else "web",
        "reporter": {"name": f"市民{number % 97:02d}", "phone": f"138{number:08d}"},
        "description": DESCRIPTIONS[number % len(DESCRIPTIONS)],
        "location": {
            "address": ADDRESSES[number % len(ADDRESSES)],
            "grid": GRIDS[number // len(DESCRIPTIONS) % len(GRIDS)],
        },
    }
    auth = {"Authorization": f"Bearer {key}"}
    started = time.perf_counter()  # a retried case's latency includes its failed attempts
    backoff = 1.0
    while True:
        give_up = time.perf_counter() - started > patience
        try:
            response = await http.post("/v1/grievances", json=body, headers=auth)
        except httpx.TransportError as exc:
            if give_up:
                raise
            filing.retries[type(exc).__name__] += 1
        else:
            if response.status_code < 500 or give_up:
                break
            filing.retries[str(response.status_code)] += 1
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, 10.0)
    response.raise_for_status()
    filing.latencies.append(time.perf_counter() - started)
    filing.finished.append(time.perf_counter())
    # A repeat after an unconfirmed attempt answers 200 with the case as it is now,
    # which may still be in report; its workflow carries on into classify.
    stage = response.json()["stage"]
    if stage == "report":
        filing.unclassified += 1
    elif stage != CLOCK:
        raise RuntimeError(f"case {number} is in {stage!r}, not {CLOCK!r}, after filing")


async def file_cases(
    http: httpx.AsyncClient, key: str, cases: int, concurrency: int, patience: float
) -> tuple[Filing, str]:
    """File ``cases`` cases, ``concurrency`` at a time; returns the cost and the run tag."""
    filing, run = Filing(), uuid.uuid4().hex[:8]
    numbers = iter(range(cases))

    async def lane() -> None:
        for number in numbers:  # lanes share one iterator: each case is filed once
            await file_one(http, key, run, number, filing, patience)

    async def progress() -> None:
        done = 0
        while True:
            await asyncio.sleep(60)
            now = len(filing.finished)
            print(
                f"  … filed {now} / {cases} ({(now - done) / 60:.1f} cases/s in the last "
                f"minute), retries {sum(filing.retries.values())}",
                flush=True,
            )
            done = now

    filing.began = time.perf_counter()
    reporting = asyncio.create_task(progress())
    try:
        await asyncio.gather(*(lane() for _ in range(concurrency)))
    finally:
        reporting.cancel()
    filing.elapsed = time.perf_counter() - filing.began
    return filing, run


def quarter_rates(filing: Filing) -> str:
    """Filing throughput in each quarter of the cases, to show it falling as clocks fire."""
    count = len(filing.finished)
    if count < 4:
        return "-"
    marks = [filing.began] + [filing.finished[count * q // 4 - 1] for q in range(1, 5)]
    quarter = count / 4
    return " / ".join(f"{quarter / max(b - a, 1e-9):.1f}" for a, b in itertools.pairwise(marks))


# --- the read model ---------------------------------------------------------------------


def connect(db_path: Path) -> sqlite3.Connection:
    """The read model, read-only (WAL: the projection writer is never blocked)."""
    return sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)


def step_counts(db_path: Path) -> dict[str, int]:
    """How many cases have recorded each SLA step of the classify clock."""
    with connect(db_path) as db:
        rows = db.execute(
            "SELECT type, COUNT(DISTINCT case_id) FROM events"
            " WHERE type IN ('sla_warning', 'sla_overdue', 'escalated')"
            " AND json_extract(data, '$.clock') = ? GROUP BY type",
            (CLOCK,),
        ).fetchall()
    counts = dict.fromkeys((step for step, _ in STEPS), 0)
    counts.update({str(kind): int(count) for kind, count in rows})
    return counts


def aware(text: str) -> datetime:
    """A stored timestamp (ISO 8601; naive ones are UTC) as an aware datetime."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def lateness(db_path: Path) -> dict[str, list[float]]:
    """Per step, how many seconds after its planned time each case's event was recorded."""
    late: dict[str, list[float]] = {step: [] for step, _ in STEPS}
    with connect(db_path) as db:
        planned: dict[str, dict[str, Any]] = {
            str(case_id): json.loads(clock)
            for case_id, clock in db.execute(
                "SELECT id, json_extract(doc, '$.deadlines.' || ?) FROM cases", (CLOCK,)
            )
            if clock is not None
        }
        fields = dict(STEPS)
        seen: set[tuple[str, str]] = set()
        for case_id, kind, at in db.execute(
            "SELECT case_id, type, at FROM events"
            " WHERE type IN ('sla_warning', 'sla_overdue', 'escalated')"
            " AND json_extract(data, '$.clock') = ? ORDER BY case_id, seq",
            (CLOCK,),
        ):
            if (case_id, kind) in seen or case_id not in planned:
                continue  # only each clock's first firing counts
            seen.add((case_id, kind))
            due = aware(planned[case_id][fields[kind]])
            late[kind].append((aware(at) - due).total_seconds())
    return late


async def wait_escalated(
    db_path: Path, cases: int, patience: float, sampler: RssSampler
) -> dict[str, int]:
    """Poll the read model until every case has escalated (or ``patience`` seconds pass)."""
    deadline = time.monotonic() + patience
    last_report = time.monotonic()
    while True:
        counts = await asyncio.to_thread(step_counts, db_path)
        if counts["escalated"] >= cases:
            return counts
        now = time.monotonic()
        if now >= deadline:
            print(f"timed out waiting for escalations: {counts}", flush=True)
            return counts
        if now - last_report >= 60:
            up, temporal = sampler.sample()
            print(
                f"  … warned {counts['sla_warning']}, overdue {counts['sla_overdue']}, "
                f"escalated {counts['escalated']} / {cases}; "
                f"RSS up {mib(up).strip()} MiB, temporal {mib(temporal).strip()} MiB",
                flush=True,
            )
            last_report = now
        await asyncio.sleep(2)


# --- the run -----------------------------------------------------------------------------


async def measure(
    args: argparse.Namespace,
    base_url: str,
    data_dir: str,
    system: subprocess.Popen[bytes],
    launched: float,
) -> None:
    """File the cases, watch memory and the clocks, and print the figures."""
    keys = json.loads((Path(data_dir) / "dev-keys.json").read_text("utf-8"))
    db_path = Path(data_dir) / "readmodel.db"
    sampler = RssSampler(system.pid, data_dir)
    limits = httpx.Limits(max_connections=args.concurrency * 2)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as http:
        await wait_healthy(http)
        healthy = time.perf_counter() - launched
        idle_up, idle_temporal = sampler.sample()
        sampling = asyncio.create_task(sampler.run(args.sample_seconds))
        try:
            filing, _ = await file_cases(
                http, keys["hotline"], args.cases, args.concurrency, args.file_patience
            )
            open_up, open_temporal = sampler.sample()
            print(
                f"filed {args.cases} cases in {filing.elapsed:.1f}s: "
                f"{args.cases / filing.elapsed:.1f} cases/s at concurrency {args.concurrency}, "
                f"p50 {percentile(filing.latencies, 0.5) * 1000:.0f} ms, "
                f"p99 {percentile(filing.latencies, 0.99) * 1000:.0f} ms, "
                f"retries {dict(filing.retries) or 0}, "
                f"answered still in report {filing.unclassified}",
                flush=True,
            )
            print(f"filing cases/s by quarter of the cases: {quarter_rates(filing)}", flush=True)
            filed = time.perf_counter()
            counts = await wait_escalated(db_path, args.cases, args.timeout, sampler)
            done = time.perf_counter()
            end_up, end_temporal = sampler.sample()
        finally:
            sampling.cancel()
    late = await asyncio.to_thread(lateness, db_path)

    print(
        f"catalogue: classify {args.classify_minutes} min, escalate_after "
        f"{args.escalate_minutes} min; {args.cases} cases, all left in classify"
    )
    print(
        f"elapsed: up→healthy {healthy:.1f}s, filing {filing.elapsed:.1f}s, "
        f"last filed→all escalated {done - filed:.1f}s, total {done - launched:.1f}s"
    )
    print(f"{'step':<12} {'count':>6} {'p50 s':>8} {'p99 s':>8} {'max s':>8}  (fired − planned)")
    for step, planned_field in STEPS:
        values = late[step]
        if not values:
            print(f"{step:<12} {0:>6}")
            continue
        print(
            f"{step:<12} {len(values):>6} {percentile(values, 0.5):8.2f} "
            f"{percentile(values, 0.99):8.2f} {max(values):8.2f}  vs {planned_field}"
        )
    if counts["escalated"] < args.cases:
        print(f"NOT all escalated: {counts['escalated']} of {args.cases}")
    print(f"{'RSS MiB':<26} {'up (worker+API)':>16} {'temporal':>9}")
    print(f"{'idle, before filing':<26} {mib(idle_up):>16} {mib(idle_temporal):>9}")
    print(f"{'all N open':<26} {mib(open_up):>16} {mib(open_temporal):>9}")
    print(f"{'all escalated':<26} {mib(end_up):>16} {mib(end_temporal):>9}")
    print(
        f"{'peak':<26} {mib(sampler.peak_up):>16} {mib(sampler.peak_temporal):>9}"
        f"  ({sampler.samples} samples, every {args.sample_seconds:g}s)"
    )
    per_case = (open_up - idle_up) / args.cases, (open_temporal - idle_temporal) / args.cases
    print(f"{'per open case (KiB)':<26} {per_case[0]:>16.1f} {per_case[1]:>9.1f}")


def main() -> int:
    """Start the embedded system, run the clocks, stop the system."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=32, help="filing requests in flight")
    parser.add_argument("--classify-minutes", type=int, default=5)
    parser.add_argument("--escalate-minutes", type=int, default=1)
    parser.add_argument(
        "--timeout",
        type=float,
        default=1800,
        help="seconds to wait, after the last case is filed, for every escalation",
    )
    parser.add_argument(
        "--file-patience",
        type=float,
        default=600,
        help="seconds one case's filing is retried (503, dropped connection) before giving up",
    )
    parser.add_argument("--sample-seconds", type=float, default=3, help="RSS sampling period")
    parser.add_argument(
        "--tmp-root", default=None, help="where the temporary data dir goes (e.g. /dev/shm)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="grievance-clocks-", dir=args.tmp_root) as data_dir:
        catalogue = Path(data_dir) / "catalogue.yaml"
        write_catalogue(catalogue, args.classify_minutes, args.escalate_minutes)
        log = Path(data_dir) / "up.log"
        with embedded_system(Path(data_dir), catalogue=catalogue, log=log) as system:
            try:
                asyncio.run(
                    measure(args, system.api_url, data_dir, system.process, system.launched)
                )
            except BaseException:
                log_lines = log.read_text("utf-8", "replace").splitlines()
                print("last lines of grievance up's output:", *log_lines[-40:], sep="\n  ")
                raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
