"""Keep N cases open with live SLA clocks on an embedded system and time their escalations.

Starts ``grievance up`` in a temporary data dir on a catalogue that
auto-dispatches nothing and whose ``escalate_after`` is E minutes, in up's
default layout (API in up's process, ``--workers N`` worker processes beside
it; ``--workers 0`` puts the worker in up's process, as in runs before issue
10), files N cases over HTTP as the hotline and leaves them alone in classify.
Each then warns at 0.8 of its classify clock, goes overdue (and is chased) when
it runs out and is escalated to the command centre E minutes later. When each
case falls due:

* default: every classify clock is M minutes (``--classify-minutes``), so case
  i falls due M minutes after it was filed and filing speed sets the spread;
* ``--spread-minutes S``: the N due times are spread evenly over S minutes,
  case i (from 0) due at ``F/0.8 + S·i/N`` after filing began, F being the
  expected filing time (``--filing-minutes``; by default N / 20 cases/s). The
  catalogue has one category per classify clock length in whole seconds and
  each case is filed with the ``category_hint`` whose clock ends at its target
  (allowing for the recent filing latency; ``benchmarks/clock_plan.py``), so
  filing speed does not move the due times, and no warning fires before F:
  filing and clocks do not compete unless filing overruns F. The planned
  warn/due/escalate times are printed relative to the end of filing, so the
  load the run produced is on the page.

Meanwhile the RSS of each process of up's tree (API, each worker, dev server)
is sampled and their CPU time read. Once every case has escalated (or the
timeout passed), prints how late each step fired against its planned time
(from the read model), RSS per role (idle, all open, end, peak; KiB per open
case), CPU ms per case per process, PASS/FAIL against issue 10's targets
(each worker ≤ 1 GB, dev server ≤ 1 GB, p99 lateness ≤ 2 s per step; 1 GB =
10⁹ bytes), and the workers' sticky-cache metrics (size, hits, misses, forced
evictions, workflow tasks), scraped from ``GRIEVANCE_METRICS_PORT``; then stops
the system with SIGTERM. ``--workflow-cache C`` sets ``GRIEVANCE_WORKFLOW_CACHE``:
with C below N, cases are evicted and replayed, which the metrics, the
lateness and the CPU figures show.

    .venv/bin/python -m benchmarks.clocks --cases 20000 --spread-minutes 30 --filing-minutes 20
    .venv/bin/python -m benchmarks.clocks --cases 300 --spread-minutes 3 --workflow-cache 100
    .venv/bin/python -m benchmarks.clocks --cases 200 --classify-minutes 1 --escalate-minutes 1
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
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
from typing import Any, Protocol

import httpx

from benchmarks import rss, worker_metrics
from benchmarks.clock_plan import (
    SpreadPlan,
    spread_lines,
    write_catalogue,
    write_spread_catalogue,
)
from benchmarks.cpu import CpuSample, cpu_line
from benchmarks.embedded import embedded_system, free_port, port_is_free
from benchmarks.lifecycle import percentile, wait_healthy
from grievance_flow.cli.workers import default_worker_count
from grievance_flow.settings import Settings

CLOCK = "classify"
"""The clock every benchmark case runs: nobody dispatches them."""

STEPS: tuple[tuple[str, str], ...] = (
    ("sla_warning", "warn_at"),
    ("sla_overdue", "due_at"),
    ("escalated", "escalate_at"),
)
"""Each SLA event type and the deadline field it is planned for."""

LAG_WEIGHT = 0.1
"""Weight of the newest filing latency in :attr:`SpreadHint.lag`."""

FILING_RATE_GUESS = 20.0
"""Cases per second assumed when ``--filing-minutes`` is not given."""

RSS_LIMIT_KIB = 10**9 / 1024
"""Issue 10's bound on the RSS of a worker and of the dev server: 1 GB (10⁹ bytes)."""

LATENESS_LIMIT = 2.0
"""Issue 10's bound on every step's p99 lateness, seconds."""

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


class Hint(Protocol):
    """Chooses each case's ``category_hint``, and learns how long a filing takes."""

    def __call__(self, number: int, elapsed: float) -> str | None:
        """The hint for case ``number`` filed ``elapsed`` s after filing began."""

    def observe(self, latency: float) -> None:
        """One filing attempt was answered ``latency`` s after it was sent."""


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


class NoHint:
    """File without a hint: the catalogue's default class sets the clock."""

    def __call__(self, number: int, elapsed: float) -> str | None:
        """None, whatever the case."""
        return None

    def observe(self, latency: float) -> None:
        """Nothing to learn."""


async def file_one(
    http: httpx.AsyncClient,
    key: str,
    run: str,
    number: int,
    filing: Filing,
    patience: float,
    hint: Hint | None = None,
) -> None:
    """File case ``number`` like a hotline client would.

    A 5xx (503: no worker confirmed the intake in time) or a dropped connection
    is retried with backoff for up to ``patience`` seconds: intake is idempotent
    on ``external_id``, and the 503 says filing again is safe. The hint is
    chosen afresh for each attempt, so a spread clock still ends on target when
    the first attempt never started the case.
    """
    body: dict[str, Any] = {
        "external_id": f"CLK-{run}-{number:06d}",
        "channel": "phone" if number % 5 else "web",
        "reporter": {"name": f"市民{number % 97:02d}", "phone": f"138{number:08d}"},
        "description": DESCRIPTIONS[number % len(DESCRIPTIONS)],
        "location": {
            "address": ADDRESSES[number % len(ADDRESSES)],
            "grid": GRIDS[number // len(DESCRIPTIONS) % len(GRIDS)],
        },
    }
    hint = hint or NoHint()
    auth = {"Authorization": f"Bearer {key}"}
    started = time.perf_counter()  # a retried case's latency includes its failed attempts
    backoff = 1.0
    while True:
        give_up = time.perf_counter() - started > patience
        category = hint(number, time.perf_counter() - filing.began)
        if category is not None:
            body["category_hint"] = category
        sent = time.perf_counter()
        try:
            response = await http.post("/v1/grievances", json=body, headers=auth)
        except httpx.TransportError as exc:
            if give_up:
                raise
            filing.retries[type(exc).__name__] += 1
        else:
            if response.status_code < 500 or give_up:
                hint.observe(time.perf_counter() - sent)
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
    http: httpx.AsyncClient,
    key: str,
    cases: int,
    concurrency: int,
    patience: float,
    hint: Hint | None = None,
) -> tuple[Filing, str]:
    """File ``cases`` cases, ``concurrency`` at a time; returns the cost and the run tag."""
    filing, run = Filing(), uuid.uuid4().hex[:8]
    numbers = iter(range(cases))

    async def lane() -> None:
        for number in numbers:  # lanes share one iterator: each case is filed once
            await file_one(http, key, run, number, filing, patience, hint)

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


@dataclass
class SpreadHint:
    """Hints for a :class:`SpreadPlan`: each case's clock ends at its target time.

    The clock starts when the workflow enters classify, shortly before the
    filing is answered, not when the request is sent: the hint allows for the
    recent filing latency (a moving average), so that queueing in a busy
    system does not push every due time late by its wait.
    """

    plan: SpreadPlan
    clamped: set[int] = field(default_factory=set)
    """Cases filed after their target: they got the shortest clock instead."""
    lag: float = 0.0
    """Moving average of the filing latency, seconds."""

    def __call__(self, number: int, elapsed: float) -> str:
        """The hint for case ``number`` filed ``elapsed`` s after filing began."""
        clock, clamped = self.plan.clock_for(number, elapsed + self.lag)
        if clamped:
            self.clamped.add(number)
        else:
            self.clamped.discard(number)
        return self.plan.category(clock)

    def observe(self, latency: float) -> None:
        """Fold one answered attempt's latency into :attr:`lag`."""
        self.lag += LAG_WEIGHT * (latency - self.lag)


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


def planned_clocks(db_path: Path) -> dict[str, dict[str, datetime]]:
    """Each case's planned classify ``warn_at`` / ``due_at`` / ``escalate_at``."""
    with connect(db_path) as db:
        rows = db.execute(
            "SELECT id, json_extract(doc, '$.deadlines.' || ?) FROM cases", (CLOCK,)
        ).fetchall()
    return {
        str(case_id): {name: aware(clock[name]) for _, name in STEPS}
        for case_id, clock in ((case_id, json.loads(text)) for case_id, text in rows if text)
    }


Lateness = dict[str, list[tuple[datetime, float]]]
"""Per step, each first firing's planned time and how late it was (s)."""


def lateness(db_path: Path, planned: dict[str, dict[str, datetime]]) -> Lateness:
    """Per step, when each case's event was planned and how many seconds late it was recorded."""
    late: Lateness = {step: [] for step, _ in STEPS}
    fields = dict(STEPS)
    seen: set[tuple[str, str]] = set()
    with connect(db_path) as db:
        for case_id, kind, at in db.execute(
            "SELECT case_id, type, at FROM events"
            " WHERE type IN ('sla_warning', 'sla_overdue', 'escalated')"
            " AND json_extract(data, '$.clock') = ? ORDER BY case_id, seq",
            (CLOCK,),
        ):
            if (case_id, kind) in seen or case_id not in planned:
                continue  # only each clock's first firing counts
            seen.add((case_id, kind))
            due = planned[case_id][fields[kind]]
            late[kind].append((due, (aware(at) - due).total_seconds()))
    return late


def seconds_late(late: Lateness) -> dict[str, list[float]]:
    """Per step, only how late each firing was."""
    return {step: [value for _, value in fired] for step, fired in late.items()}


def minute_lines(late: Lateness, since: datetime) -> list[str]:
    """p50 / p99 lateness per step for each minute of planned time after ``since``.

    Shows whether a queue built up slowly (p99 rising minute by minute) or
    the worker stalled once (one bad minute).
    """
    buckets: dict[int, dict[str, list[float]]] = {}
    for step, fired in late.items():
        for due, value in fired:
            minute = math.floor((due - since).total_seconds() / 60)
            buckets.setdefault(minute, {}).setdefault(step, []).append(value)
    lines = ["lateness by planned minute after filing ended (p50 / p99 s, count):"]
    for minute in sorted(buckets):
        cells = []
        for step, _ in STEPS:
            values = buckets[minute].get(step, [])
            if not values:
                cells.append(f"{step} {'-':>22}")
                continue
            p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
            cells.append(f"{step} {p50:6.2f} / {p99:6.2f} ({len(values):4d})")
        lines.append(f"  {minute:+4d} min  " + "  ".join(cells))
    return lines


async def wait_escalated(
    db_path: Path,
    cases: int,
    patience: float,
    sampler: rss.RssSampler,
    ports: dict[str, int] | None = None,
) -> dict[str, int]:
    """Poll the read model until every case has escalated (or ``patience`` seconds pass).

    Each minute it prints the counts so far, the RSS, and per worker (metrics
    on ``ports``) what its cache and task slots did in that minute.
    """
    deadline = time.monotonic() + patience
    last_report = time.monotonic()
    ports = ports or {}
    scraped = {
        role: await asyncio.to_thread(worker_metrics.scrape_progress, port)
        for role, port in ports.items()
    }
    while True:
        counts = await asyncio.to_thread(step_counts, db_path)
        if counts["escalated"] >= cases:
            return counts
        now = time.monotonic()
        if now >= deadline:
            print(f"timed out waiting for escalations: {counts}", flush=True)
            return counts
        if now - last_report >= 60:
            memory = sampler.sample()
            shown = ", ".join(
                f"{role} {rss.mib(memory[role])}" for role in rss.role_order(set(memory))
            )
            print(
                f"  … warned {counts['sla_warning']}, overdue {counts['sla_overdue']}, "
                f"escalated {counts['escalated']} / {cases}; RSS MiB {shown}",
                flush=True,
            )
            for role, port in ports.items():
                fresh = await asyncio.to_thread(worker_metrics.scrape_progress, port)
                if fresh is not None and scraped.get(role) is not None:
                    print(
                        f"    {role}: {worker_metrics.progress_line(scraped[role] or {}, fresh)}",
                        flush=True,
                    )
                scraped[role] = fresh
            last_report = now
        await asyncio.sleep(2)


# --- the report --------------------------------------------------------------------------


def lateness_lines(late: dict[str, list[float]], cases: int) -> list[str]:
    """p50 / p99 / max per step, and PASS/FAIL against :data:`LATENESS_LIMIT` at p99."""
    lines = [f"{'step':<12} {'count':>6} {'p50 s':>8} {'p99 s':>8} {'max s':>8}  (fired − planned)"]
    verdicts: list[str] = []
    for step, planned_field in STEPS:
        values = late[step]
        if not values:
            lines.append(f"{step:<12} {0:>6}")
            verdicts.append(f"FAIL {step}: none fired")
            continue
        p99 = percentile(values, 0.99)
        lines.append(
            f"{step:<12} {len(values):>6} {percentile(values, 0.5):8.2f} "
            f"{p99:8.2f} {max(values):8.2f}  vs {planned_field}"
        )
        ok = p99 <= LATENESS_LIMIT and len(values) >= cases
        verdicts.append(
            f"{'PASS' if ok else 'FAIL'} {step} p99 lateness {p99:.2f} s ≤ {LATENESS_LIMIT:g} s"
            + ("" if len(values) >= cases else f" (only {len(values)} of {cases} fired)")
        )
    return lines + verdicts


@dataclass
class Memory:
    """RSS samples per role at the run's marks, and the peaks."""

    idle: dict[str, int]
    open: dict[str, int]
    end: dict[str, int]
    peaks: dict[str, int]
    samples: int

    def lines(self, cases: int, every: float) -> list[str]:
        """The RSS table, KiB per open case, and PASS/FAIL against the 1 GB bounds."""
        roles = rss.role_order(set(self.idle) | set(self.open) | set(self.peaks))
        width = max(10, *(len(role) for role in roles))
        lines = [f"{'RSS MiB':<24} " + " ".join(f"{role:>{width}}" for role in roles)]
        for label, values in (
            ("idle, before filing", self.idle),
            ("all N open (filed)", self.open),
            ("all escalated", self.end),
            ("peak", self.peaks),
        ):
            cells = " ".join(f"{rss.mib(values.get(role, 0)):>{width}}" for role in roles)
            lines.append(f"{label:<24} {cells}")
        lines[-1] += f"  ({self.samples} samples, every {every:g}s)"
        for label, values in (("KiB/case, all open", self.open), ("KiB/case, peak", self.peaks)):
            cells = " ".join(
                f"{(values.get(role, 0) - self.idle.get(role, 0)) / cases:>{width}.1f}"
                for role in roles
            )
            lines.append(f"{label:<24} {cells}")
        workers = [role for role in roles if rss.is_worker(role)] or [rss.UP]
        if len(workers) > 1:  # each holds its share of the cases: the sum is per case
            grown = sum(self.open.get(role, 0) - self.idle.get(role, 0) for role in workers)
            lines.append(f"{'KiB/case, all workers':<24} {grown / cases:>{width}.1f}")
        limit = f"1 GB ({rss.mib(RSS_LIMIT_KIB)} MiB)"
        for role in [*workers, rss.DEV_SERVER]:
            peak = self.peaks.get(role, 0)
            what = f"{role} (API + worker)" if role == rss.UP else role
            verdict = "PASS" if 0 < peak <= RSS_LIMIT_KIB else "FAIL"
            lines.append(f"{verdict} {what} peak RSS {rss.mib(peak)} MiB ≤ {limit}")
        return lines


def cache_lines(ports: dict[str, int]) -> list[str]:
    """The sticky-cache metrics of each worker, scraped now."""
    lines: list[str] = []
    for role, port in ports.items():
        metrics = worker_metrics.scrape(port)
        if metrics is None:
            lines.append(f"workflow cache, {role} (:{port}): no metrics answered")
            continue
        shown = ", ".join(
            f"{worker_metrics.short(name)} {value:.0f}" for name, value in sorted(metrics.items())
        )
        lines.append(f"workflow cache, {role} (:{port}): {shown or 'no cache metrics'}")
    return lines


def worker_ports(workers: int) -> dict[str, int]:
    """A metrics port per worker role (``GRIEVANCE_METRICS_PORT``, else free ones), set."""
    roles = [f"{rss.WORKER} {n}" for n in range(1, workers + 1)] or [rss.UP]
    given = os.environ.get("GRIEVANCE_METRICS_PORT")
    if given is not None:
        base = int(given)
    else:
        for _ in range(200):
            base = free_port()
            if base + len(roles) <= 65535 and all(
                port_is_free(base + n) for n in range(len(roles))
            ):
                break
        else:
            raise RuntimeError(f"found no {len(roles)} free consecutive ports for metrics")
        os.environ["GRIEVANCE_METRICS_PORT"] = str(base)  # up's children inherit it
    return {role: base + n for n, role in enumerate(roles)}


async def wait_polling(ports: dict[str, int], patience: float = 120) -> None:
    """Wait until every worker's metrics say it polls (or ``patience`` seconds pass)."""
    deadline = time.monotonic() + patience
    waiting = dict(ports)
    while waiting and time.monotonic() < deadline:
        for role, port in list(waiting.items()):
            if await asyncio.to_thread(worker_metrics.polling, port):
                del waiting[role]
        await asyncio.sleep(0.5)
    if waiting:
        print(f"not polling after {patience:g} s: {', '.join(waiting)}", flush=True)


# --- the run -----------------------------------------------------------------------------


@dataclass
class Setup:
    """What the run was set up with, besides the command line."""

    plan: SpreadPlan | None
    categories: int
    ports: dict[str, int]
    cache: int


def catalogue_line(args: argparse.Namespace, setup: Setup) -> str:
    """What the catalogue and the cases were."""
    tail = (
        f"escalate_after {args.escalate_minutes:g} min; {args.cases} cases, all left in "
        f"classify; workflow cache {setup.cache} per worker, workers "
        f"{len([r for r in setup.ports if rss.is_worker(r)]) or 'none (in up)'}"
    )
    if setup.plan is None:
        return f"catalogue: classify {args.classify_minutes:g} min, {tail}"
    plan = setup.plan
    return (
        f"catalogue: {setup.categories} categories, classify clocks {plan.step}..{plan.longest}"
        f" s; cases due evenly over {plan.spread:g} s from {plan.first_due:.1f} s after filing"
        f" began (filing estimate {plan.filing:.1f} s); {tail}"
    )


async def measure(
    args: argparse.Namespace,
    setup: Setup,
    base_url: str,
    data_dir: str,
    system: subprocess.Popen[bytes],
    launched: float,
) -> None:
    """File the cases, watch memory, CPU and the clocks, and print the figures."""
    keys = json.loads((Path(data_dir) / "dev-keys.json").read_text("utf-8"))
    db_path = Path(data_dir) / "readmodel.db"
    sampler = rss.RssSampler(system.pid)
    hint: Hint = NoHint() if setup.plan is None else SpreadHint(setup.plan)
    limits = httpx.Limits(max_connections=args.concurrency * 2)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as http:
        await wait_healthy(http)
        healthy = time.perf_counter() - launched
        # The API answers before the workers have loaded and connected: the idle
        # figures are taken once every worker polls.
        await wait_polling(setup.ports)
        idle = sampler.sample()
        cpu_idle = CpuSample.of_tree(system.pid)
        sampling = asyncio.create_task(sampler.run(args.sample_seconds))
        try:
            filing, _ = await file_cases(
                http, keys["hotline"], args.cases, args.concurrency, args.file_patience, hint
            )
            filed_at = datetime.now(UTC)
            all_open = sampler.sample()
            cpu_filed = CpuSample.of_tree(system.pid)
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
            wait = patience(args, setup, filing.elapsed)
            counts = await wait_escalated(db_path, args.cases, wait, sampler, setup.ports)
            done = time.perf_counter()
            end = sampler.sample()
            cpu_done = CpuSample.of_tree(system.pid)
        finally:
            sampling.cancel()
    caches = await asyncio.to_thread(cache_lines, setup.ports)
    planned = await asyncio.to_thread(planned_clocks, db_path)
    late = await asyncio.to_thread(lateness, db_path, planned)
    memory = Memory(idle, all_open, end, sampler.peaks, sampler.samples)

    print(catalogue_line(args, setup))
    if setup.plan is not None and filing.elapsed > setup.plan.filing:
        print(
            f"filing took {filing.elapsed:.1f}s, more than its estimate "
            f"{setup.plan.filing:.1f}s: clocks fired while cases were filed "
            "(pass a longer --filing-minutes)"
        )
    if isinstance(hint, SpreadHint) and hint.clamped:
        print(f"filing overran the plan: {len(hint.clamped)} cases got the shortest clock")
    print(
        f"elapsed: up→healthy {healthy:.1f}s, filing {filing.elapsed:.1f}s, "
        f"last filed→all escalated {done - filed:.1f}s, total {done - launched:.1f}s"
    )
    print(*spread_lines(planned, filed_at), sep="\n")
    print(*minute_lines(late, filed_at), sep="\n")
    print(*lateness_lines(seconds_late(late), args.cases), sep="\n")
    if counts["escalated"] < args.cases:
        print(f"NOT all escalated: {counts['escalated']} of {args.cases}")
    print(*memory.lines(args.cases, args.sample_seconds), sep="\n")
    print(f"filing, {cpu_line(cpu_filed.since(cpu_idle), args.cases)}")
    print(f"clocks, {cpu_line(cpu_done.since(cpu_filed), args.cases)}")
    print(*caches, sep="\n")


def patience(args: argparse.Namespace, setup: Setup, filing: float) -> float:
    """Seconds after the last case was filed to wait for every escalation.

    ``--timeout`` if given; else 1800 with one clock for all (as before), or,
    spread, until the last case should have escalated plus 10 minutes.
    """
    if args.timeout is not None:
        return float(args.timeout)
    if setup.plan is None:
        return 1800.0
    plan = setup.plan
    return max(
        60.0, float(plan.first_due + plan.spread + args.escalate_minutes * 60 + 600 - filing)
    )


def prepare(args: argparse.Namespace, catalogue: Path) -> Setup:
    """Write the catalogue, pick the metrics ports and set the cache size for ``up``."""
    if args.workflow_cache is not None:
        os.environ["GRIEVANCE_WORKFLOW_CACHE"] = str(args.workflow_cache)
    default_cache = Settings.model_fields["workflow_cache"].default
    cache = int(os.environ.get("GRIEVANCE_WORKFLOW_CACHE", default_cache))
    workers = default_worker_count() if args.workers is None else args.workers
    ports = worker_ports(workers)
    if args.spread_minutes is None:
        write_catalogue(catalogue, args.classify_minutes, args.escalate_minutes)
        return Setup(None, 0, ports, cache)
    filing = (
        args.filing_minutes * 60
        if args.filing_minutes is not None
        else math.ceil(args.cases / FILING_RATE_GUESS)
    )
    plan = SpreadPlan(args.cases, args.spread_minutes * 60, filing, step=args.clock_step)
    categories = write_spread_catalogue(
        catalogue, plan, args.escalate_minutes, DESCRIPTIONS, GRIDS[0]
    )
    return Setup(plan, categories, ports, cache)


def parse_args() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=32, help="filing requests in flight")
    parser.add_argument(
        "--classify-minutes",
        type=float,
        default=5,
        help="every case's classify clock (ignored with --spread-minutes)",
    )
    parser.add_argument("--escalate-minutes", type=float, default=1)
    parser.add_argument(
        "--spread-minutes",
        type=float,
        default=None,
        help="spread the cases' due times evenly over this many minutes, after filing",
    )
    parser.add_argument(
        "--filing-minutes",
        type=float,
        default=None,
        help=f"expected filing time with --spread-minutes (default: cases / "
        f"{FILING_RATE_GUESS:g} per s); the first case falls due at this / 0.8",
    )
    parser.add_argument(
        "--clock-step",
        type=int,
        default=1,
        help="seconds between the spread catalogue's clock lengths (categories = longest / step)",
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="up --workers N (default: up's own default)"
    )
    parser.add_argument(
        "--workflow-cache",
        type=int,
        default=None,
        help="GRIEVANCE_WORKFLOW_CACHE for the system (open cases each worker keeps in memory)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds, after the last case is filed, to wait for every escalation "
        "(default 1800; with --spread-minutes: until the last is due to escalate, plus 10 min)",
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
    return parser.parse_args()


def main() -> int:
    """Start the embedded system, run the clocks, stop the system."""
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="grievance-clocks-", dir=args.tmp_root) as data_dir:
        catalogue = Path(data_dir) / "catalogue.yaml"
        setup = prepare(args, catalogue)
        log = Path(data_dir) / "up.log"
        with embedded_system(
            Path(data_dir), catalogue=catalogue, log=log, workers=args.workers
        ) as system:
            try:
                asyncio.run(
                    measure(args, setup, system.api_url, data_dir, system.process, system.launched)
                )
            except BaseException:
                log_lines = log.read_text("utf-8", "replace").splitlines()
                print("last lines of grievance up's output:", *log_lines[-40:], sep="\n  ")
                raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
