"""Fault suite: kill -9 parts of the system while N cases go through the lifecycle.

Starts ``grievance up`` on a temporary data dir, and a ``grievance worker`` and
a ``grievance api`` beside it on up's dev server and read model. Files N cases
as the hotline and drives each one file → dispatch → accept → progress →
complete → recheck (passed) over HTTP, C at a time, round-robin across up's API
and the extra one. Meanwhile, at K random moments (seeded), it kill -9s one of:

- ``up`` itself (API, its worker processes and, through their parent-death
  signal, the dev server), then starts it again on the same data dir;
- the dev server alone (``up`` must restart it);
- the extra worker (restarted at once);
- the extra API (``api``, restarted at once; not in the default kinds, so that
  a seed's schedule stays what it was).

Every action carries an ``Idempotency-Key``; a request that fails with a
connection error or a 5xx is retried with the same key (filing: the same
``external_id``). Until the API honours the key, a retry is made safe by
reading the case first and skipping the action when it already took effect.

At the end it reports cases acknowledged vs cases that exist in Temporal, cases
closed, duplicated events (an action recorded twice in one timeline), the read
model vs a ``grievance projection rebuild`` into a fresh SQLite, and restart
times; it exits 1 unless 0 lost, 0 duplicated, diff 0 and every case closed.

    .venv/bin/python -m benchmarks.faults --cases 1000 --kills 10 --seed 1
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks.embedded import free_port, free_temporal_port
from benchmarks.fault_checks import Findings, check_system
from benchmarks.fault_processes import ExtraApi, ExtraWorker, RoundRobin, Up

KINDS = ("up", "dev-server", "worker")
"""What is killed by default, in the order a balanced schedule cycles through them."""

ALL_KINDS = (*KINDS, "api")
"""What can be killed (``--kinds``)."""

REQUEST_PATIENCE = 240.0
"""Seconds one request keeps being retried through outages before its case counts as stuck."""

DESCRIPTION = "小区楼顶有人私搭乱建，在天台上盖了一间铁皮房"


@dataclass
class FaultOptions:
    """How big a run, and what to kill."""

    cases: int = 1000
    kills: int = 10
    seed: int = 1
    concurrency: int = 10
    kinds: tuple[str, ...] = KINDS
    tmp_root: Path | None = None
    keep: bool = False


@dataclass
class Kill:
    """One kill and how long the system took to come back."""

    kind: str
    at_closed: int
    recovery: float
    note: str = ""


@dataclass
class FaultReport:
    """What a run found."""

    options: FaultOptions
    acknowledged: int
    findings: Findings
    stuck: dict[str, str]
    kills: list[Kill]
    retries: int
    skipped: int
    other_5xx: int
    up_exits: list[int]
    elapsed: float

    @property
    def ok(self) -> bool:
        """0 lost, 0 duplicated, diff 0, every acknowledged case closed, nothing stuck."""
        found = self.findings
        return (
            not self.stuck
            and found.lost == 0
            and found.duplicated == 0
            and found.diff == 0
            and found.closed == self.acknowledged == self.options.cases
        )

    def lines(self) -> list[str]:
        """The report, one figure a line."""
        found = self.findings
        by_kind: dict[str, list[float]] = {}
        for kill in self.kills:
            by_kind.setdefault(kill.kind, []).append(kill.recovery)
        restarts = [
            f"  {kind:<10} {len(times)} kills, back after "
            + ", ".join(f"{seconds:.1f}" for seconds in times)
            + f" s (max {max(times):.1f} s)"
            for kind, times in by_kind.items()
        ]
        return [
            f"cases {self.options.cases}, kills {len(self.kills)}/{self.options.kills} "
            f"(seed {self.options.seed}), concurrency {self.options.concurrency}, "
            f"elapsed {self.elapsed:.0f} s",
            f"acknowledged (201/200)   {self.acknowledged}",
            f"exist in Temporal        {found.existing}  (lost: {found.lost})",
            f"closed                   {found.closed}",
            f"stuck (not driven)       {len(self.stuck)}",
            f"duplicated events        {found.duplicated}  "
            f"(in {found.cases_with_duplicates} cases)",
            f"read model vs rebuild    diff {found.diff} rows, {found.content_diff} beyond "
            f"timestamps ({found.rebuilt_cases} cases, {found.rebuilt_events} events rebuilt)",
            f"retried requests         {self.retries}  (actions found already applied: "
            f"{self.skipped}; 5xx other than 503: {self.other_5xx})",
            f"'up' exits seen          {self.up_exits}",
            "restart times (kill -> serving again; worker: -> polling again)",
            *restarts,
            *[f"  kill {kill.kind}: {kill.note}" for kill in self.kills if kill.note],
            *[f"  stuck {case_id}: {why}" for case_id, why in list(self.stuck.items())[:10]],
            "RESULT: " + ("0 lost, 0 duplicated, diff 0" if self.ok else "FAILED"),
        ]


class CaseStuckError(Exception):
    """A request for a case could not be completed (a refusal, or outages past the patience)."""


@dataclass
class Driver:
    """Drives cases through the lifecycle over HTTP, retrying safely through outages."""

    http: httpx.AsyncClient
    keys: dict[str, Any]
    run_id: str
    acknowledged: set[str] = field(default_factory=set)
    closed: int = 0
    retries: int = 0
    skipped: int = 0
    other_5xx: int = 0

    def _auth(self, key: str, idempotency_key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {key}"}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        return headers

    async def _send(
        self, method: str, path: str, headers: dict[str, str], body: Any = None
    ) -> httpx.Response | None:
        """One attempt; None when it failed ambiguously (no answer, or a 5xx)."""
        try:
            response = await self.http.request(method, path, json=body, headers=headers)
        except httpx.TransportError:
            return None
        if response.status_code >= 500:
            if response.status_code != 503:
                self.other_5xx += 1
            return None
        return response

    async def _get(self, path: str) -> Any:
        """GET as the auditor, retried until it answers."""
        deadline = time.monotonic() + REQUEST_PATIENCE
        while time.monotonic() < deadline:
            response = await self._send("GET", path, self._auth(self.keys["auditor"]))
            if response is not None and response.status_code == 200:
                return response.json()
            if response is not None:
                raise CaseStuckError(f"GET {path}: {response.status_code} {response.text[:200]}")
            await self._pause()
        raise CaseStuckError(f"GET {path}: no answer within {REQUEST_PATIENCE:.0f}s")

    async def _pause(self) -> None:
        self.retries += 1
        await asyncio.sleep(0.5)

    async def file(self, index: int) -> dict[str, Any]:
        """File case ``index``; retried with the same ``external_id`` (idempotent)."""
        body = {
            "external_id": f"FAULT-{self.run_id}-{index:05d}",
            "channel": "phone",
            "reporter": {"name": "测试", "phone": "13800000000"},
            "description": DESCRIPTION,
            "location": {"address": "湖滨路1号", "grid": "grid-1"},
        }
        deadline = time.monotonic() + REQUEST_PATIENCE
        while time.monotonic() < deadline:
            response = await self._send(
                "POST", "/v1/grievances", self._auth(self.keys["hotline"]), body
            )
            if response is not None and response.status_code in (200, 201):
                case: dict[str, Any] = response.json()
                self.acknowledged.add(case["id"])
                return case
            if response is not None:
                raise CaseStuckError(f"file: {response.status_code} {response.text[:200]}")
            await self._pause()
        raise CaseStuckError(f"file: no answer within {REQUEST_PATIENCE:.0f}s")

    async def act(
        self, case_id: str, action: str, key: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """Perform ``action`` once, however many attempts it takes."""
        headers = self._auth(key, f"{case_id}:{action}")
        path = f"/v1/grievances/{case_id}/{action}"
        ambiguous = False
        deadline = time.monotonic() + REQUEST_PATIENCE
        while time.monotonic() < deadline:
            response = await self._send("POST", path, headers, body)
            if response is not None and response.status_code == 200:
                result: dict[str, Any] = response.json()
                return result
            if response is None or (ambiguous and response.status_code == 409):
                # No answer: it may have been applied. Look before trying again,
                # so that a retry never records the action twice.
                ambiguous = True
                case: dict[str, Any] = await self._get(f"/v1/grievances/{case_id}")
                if await self._took_effect(case, action, body):
                    self.skipped += 1
                    return case
                if response is not None:
                    raise CaseStuckError(f"{action}: 409 {response.text[:200]}")
                await self._pause()
                continue
            raise CaseStuckError(f"{action}: {response.status_code} {response.text[:200]}")
        raise CaseStuckError(f"{action}: no answer within {REQUEST_PATIENCE:.0f}s")

    async def _took_effect(self, case: dict[str, Any], action: str, body: dict[str, Any]) -> bool:
        stage = case["stage"]
        if action == "dispatch":
            return bool(stage != "classify")
        if action == "accept":
            return stage not in ("classify", "accept")
        if action == "complete":
            return stage in ("recheck", "closed")
        if action == "recheck":
            return bool(stage == "closed")
        events = await self._get(f"/v1/grievances/{case['id']}/events")
        return any(
            event["type"] == action and event["data"].get("note") == body["note"]
            for event in events
        )

    async def one_case(self, index: int) -> None:
        """File one case and drive it to closed."""
        case = await self.file(index)
        case_id = case["id"]
        dispatcher, verifier = self.keys["dispatcher"], self.keys["verifier"]
        case = await self.act(
            case_id, "dispatch", dispatcher, {"category": "build.illegal-construction"}
        )
        unit = self.keys["units"][case["unit"]]
        await self.act(case_id, "accept", unit, {"note": "签收"})
        await self.act(case_id, "progress", unit, {"note": f"已到现场 {index}"})
        await self.act(case_id, "complete", unit, {"result": "resolved", "note": "违建已拆除"})
        case = await self.act(
            case_id, "recheck", verifier, {"passed": True, "satisfaction": "satisfied"}
        )
        if case["stage"] != "closed":
            raise CaseStuckError(f"after recheck the case is in {case['stage']}")
        self.closed += 1


def kill_schedule(options: FaultOptions) -> list[tuple[int, str]]:
    """``(closed cases, kind)`` pairs: when to kill what, seeded and balanced across kinds."""
    rng = random.Random(options.seed)
    kinds = [options.kinds[i % len(options.kinds)] for i in range(options.kills)]
    rng.shuffle(kinds)
    low, high = max(1, options.cases // 20), max(2, options.cases * 17 // 20)
    moments = sorted(rng.randint(low, high) for _ in range(options.kills))
    return list(zip(moments, kinds, strict=True))


@dataclass
class _Parts:
    """What the killer can kill."""

    up: Up
    worker: ExtraWorker
    api: ExtraApi


async def _kill(kind: str, parts: _Parts, http: httpx.AsyncClient) -> Kill:
    """Kill ``kind`` -9 and wait until the system serves again; returns the recovery time."""
    started = time.monotonic()
    note = ""
    up, worker = parts.up, parts.worker
    if kind == "api":
        parts.api.kill()
        parts.api.start()
        await parts.api.wait_healthy(http)
    elif kind == "up":
        up.kill()
        await up.restart()
        await up.wait_healthy(http)
    elif kind == "dev-server":
        restarts = up.restarts_logged()
        up.kill_dev_server()
        # up restarts it; if up gives up instead, start up again and say so.
        while up.restarts_logged() == restarts or not await up.healthy(http):
            if not up.alive():
                note = f"up exited with {up.process.wait() if up.process else '?'}; restarted it"
                await up.wait_healthy(http)
                break
            await asyncio.sleep(0.1)
    else:
        before = worker.polling_count()
        worker.kill()
        worker.start()
        await worker.wait_polling(before)
    return Kill(kind, 0, time.monotonic() - started, note)


async def _killer(
    options: FaultOptions,
    driver: Driver,
    parts: _Parts,
    http: httpx.AsyncClient,
    done: asyncio.Event,
) -> list[Kill]:
    kills: list[Kill] = []
    rng = random.Random(options.seed + 1)
    for moment, kind in kill_schedule(options):
        while driver.closed < moment and not done.is_set():
            await parts.worker.ensure_running()
            await asyncio.sleep(0.1)
        if done.is_set():
            break
        await asyncio.sleep(rng.uniform(0, 1.0))  # a random moment in the middle of traffic
        kill = await _kill(kind, parts, http)
        kill.at_closed = driver.closed
        kills.append(kill)
        print(
            f"  killed {kind} at {kill.at_closed} closed; back after {kill.recovery:.1f}s",
            flush=True,
        )
    return kills


async def run_faults(options: FaultOptions) -> FaultReport:
    """Run the whole suite on a temporary data dir and return its report."""
    place: contextlib.AbstractContextManager[str] = (
        contextlib.nullcontext(tempfile.mkdtemp(prefix="grievance-faults-", dir=options.tmp_root))
        if options.keep
        else tempfile.TemporaryDirectory(prefix="grievance-faults-", dir=options.tmp_root)
    )
    with place as tmp:
        root = Path(tmp)
        if options.keep:
            print(f"data dir and logs kept in {root}", flush=True)
        data_dir = root / "data"
        up = Up(data_dir, free_port(), free_temporal_port(), root / "up.log")
        worker = ExtraWorker(up.temporal_address, data_dir, root / "worker.log")
        api = ExtraApi(up.temporal_address, data_dir, free_port(), root / "api.log")
        parts = _Parts(up, worker, api)
        started = time.monotonic()
        limits = httpx.Limits(max_connections=options.concurrency * 2)
        # The driver's requests go round-robin to both APIs; health checks and
        # the final checks go to up's own.
        balanced = httpx.AsyncClient(
            base_url=up.api_url,
            timeout=60,
            transport=RoundRobin([up.api_port, api.port]),
            limits=limits,
        )
        plain = httpx.AsyncClient(base_url=up.api_url, timeout=60, limits=limits)
        async with plain as http, balanced:
            try:
                up.start()
                await up.wait_healthy(http)
                worker.start()
                await worker.wait_polling(0)
                await api.wait_healthy(http)
                keys = json.loads((data_dir / "dev-keys.json").read_text("utf-8"))
                driver = Driver(balanced, keys, run_id=f"{options.seed}-{int(time.time())}")
                report = await _drive(options, driver, parts, http)
                # The extra worker stays for the checks: their queries need a
                # worker, and up's own may still be starting after a late kill.
                await up.wait_healthy(http)
                findings = await check_system(
                    http, keys, sorted(driver.acknowledged), up.temporal_address, data_dir, root
                )
            finally:
                worker.stop()
                api.stop()
                code = up.stop()
            print(f"grievance up exited with {code} after SIGTERM", flush=True)
        return FaultReport(
            options=options,
            acknowledged=len(driver.acknowledged),
            findings=findings,
            stuck=report.stuck,
            kills=report.kills,
            retries=driver.retries,
            skipped=driver.skipped,
            other_5xx=driver.other_5xx,
            up_exits=up.exits,
            elapsed=time.monotonic() - started,
        )


@dataclass
class _Drive:
    stuck: dict[str, str]
    kills: list[Kill]


async def _drive(
    options: FaultOptions, driver: Driver, parts: _Parts, http: httpx.AsyncClient
) -> _Drive:
    stuck: dict[str, str] = {}
    gate = asyncio.Semaphore(options.concurrency)
    done = asyncio.Event()

    async def bounded(index: int) -> None:
        async with gate:
            try:
                await driver.one_case(index)
            except CaseStuckError as exc:
                stuck[f"case {index}"] = str(exc)

    killer = asyncio.create_task(_killer(options, driver, parts, http, done))
    await asyncio.gather(*(bounded(index) for index in range(options.cases)))
    done.set()
    kills = await killer
    return _Drive(stuck, kills)


def main() -> int:
    """Parse the options, run the suite, print the report; exit 1 unless it holds 0/0/0."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument(
        "--kinds", default=",".join(KINDS), help=f"what to kill, comma-separated ({ALL_KINDS})"
    )
    parser.add_argument("--tmp-root", type=Path, default=None, help="where the data dir goes")
    parser.add_argument(
        "--keep", action="store_true", help="keep the data dir and the logs (up.log, worker.log)"
    )
    args = parser.parse_args()
    kinds = tuple(kind for kind in args.kinds.split(",") if kind)
    if unknown := set(kinds) - set(ALL_KINDS):
        parser.error(f"unknown kinds: {sorted(unknown)}")
    options = FaultOptions(
        cases=args.cases,
        kills=args.kills,
        seed=args.seed,
        concurrency=args.concurrency,
        kinds=kinds,
        tmp_root=args.tmp_root,
        keep=args.keep,
    )
    print(f"fault suite: {options.cases} cases, {options.kills} kills of {kinds}", flush=True)
    report = asyncio.run(run_faults(options))
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
