"""Outage benchmark: what a read-model (PostgreSQL) outage costs the open cases' histories.

Starts ``grievance up`` on a temporary data dir with its read model on a fresh
PostgreSQL database reached through a :class:`~benchmarks.tcp_proxy.CuttableProxy`.
Over HTTP (the fault suite's driver) it brings N cases to four stages in turn:
classify, accept, handle and recheck. Once the read model has them all, it
cuts the database for M minutes and, at once, gives every case its next action
(dispatch, accept, progress, recheck passed), so every case needs a projection
it cannot write. Those actions go to Temporal as the Updates the API would
send: the API itself cannot authenticate a caller without its database.

It samples every case's history length (``describe``) through the outage and
prints the events added per case; the growth in the first part (the action,
its failed local projection and the hand-over to the server) against the last
part (time alone); the events per case per day of outage, extrapolated as the
first part's one-off cost plus the last part's rate for the rest of the day;
the catch-up time once the database is back; and the read model against a
rebuild (``projection rebuild``'s own function, into a second fresh database).
It exits 1 unless the extrapolation is within the target, every case caught
up and the diff is 0.

    .venv/bin/python -m benchmarks.outage --cases 200 --minutes 5
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from statistics import mean
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session, col, select
from temporalio.client import Client

from benchmarks.embedded import free_port, free_temporal_port
from benchmarks.fault_processes import Up
from benchmarks.faults import Driver
from benchmarks.read_model_diff import rows_differing
from benchmarks.tcp_proxy import CuttableProxy
from grievance_flow.audit.rebuild import rebuild_read_model
from grievance_flow.codec.converter import sealed_converter
from grievance_flow.codec.keys import CODEC_KEYS_FILE, read_ring
from grievance_flow.store.engine import make_engine, migrate, normalize_url
from grievance_flow.store.models import CaseRecord
from grievance_flow.store.sealing import FieldCipher, seal_read_model
from grievance_flow.workflows.contracts import (
    AcceptInput,
    Action,
    Actor,
    CaseView,
    DispatchInput,
    ProgressInput,
    RecheckInput,
    Role,
    Satisfaction,
)
from grievance_flow.workflows.keepers import LOCAL_PATIENCE

TARGET_PER_DAY = 100
"""Issue 8: at most this many history events per open case per day of read-model outage."""

HEARTBEAT = 8.0
"""Seconds between heartbeats of a workflow task kept open by a local activity."""

CATCH_UP_PATIENCE = 300.0
"""Seconds after the restore by which every case must be back in the read model."""

STAGES = ("classify", "accept", "handle", "recheck")
CATEGORY = "build.illegal-construction"
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass
class OutageOptions:
    """How big a run."""

    cases: int = 200
    minutes: float = 5.0
    concurrency: int = 10
    server_url: str = field(
        default_factory=lambda: os.environ.get("DATABASE_TEST_URL") or DEFAULT_SERVER
    )
    tmp_root: Path | None = None
    samples: int = 10


@dataclass
class Sample:
    """Every case's history length at one moment of the outage."""

    at: float
    lengths: dict[str, int]


@dataclass
class OutageReport:
    """What a run measured."""

    options: OutageOptions
    stages: dict[str, int]
    before: dict[str, int]
    settled: Sample
    samples: list[Sample]
    end: Sample
    after: dict[str, int]
    outage: float
    catch_up: float | None
    diff: list[str]
    rebuilt: int
    refused: int

    @property
    def added(self) -> list[int]:
        """Events each case added during the outage."""
        return [self.end.lengths[case] - self.before[case] for case in self.before]

    @property
    def first_part(self) -> list[int]:
        """Events each case added from the cut until past the patience and a heartbeat."""
        return [self.settled.lengths[case] - self.before[case] for case in self.before]

    @property
    def last_part(self) -> list[int]:
        """Events each case added from then until the database came back."""
        return [self.end.lengths[case] - self.settled.lengths[case] for case in self.before]

    @property
    def last_part_seconds(self) -> float:
        """How long the last part lasted."""
        return self.end.at - self.settled.at

    @property
    def per_day(self) -> float:
        """Events per case for a day-long outage: the one-off cost, then the last part's rate."""
        rate = max(self.last_part) / self.last_part_seconds if self.last_part_seconds > 0 else 0.0
        return max(self.first_part) + rate * max(0.0, 86_400 - self.settled.at)

    @property
    def ok(self) -> bool:
        """Within the target, every case caught up, the read model equal to a rebuild."""
        return (
            self.per_day <= TARGET_PER_DAY
            and self.catch_up is not None
            and not self.diff
            and self.rebuilt == self.options.cases
        )

    def lines(self) -> list[str]:
        """The report, one figure a line."""
        added, first, last = self.added, self.first_part, self.last_part
        stages = ", ".join(f"{stage} {count}" for stage, count in self.stages.items())
        series = "  ".join(
            f"{sample.at:.0f}s:{mean(sample.lengths.values()) - mean(self.before.values()):+.1f}"
            for sample in [self.settled, *self.samples, self.end]
        )
        rate = max(last) / self.last_part_seconds * 60 if self.last_part_seconds > 0 else 0.0
        catch_up = "never" if self.catch_up is None else f"{self.catch_up:.1f} s"
        return [
            f"cases {self.options.cases} ({stages}), outage {self.outage:.0f} s "
            f"({self.refused} connections refused meanwhile)",
            f"history events per case before the outage  mean {mean(self.before.values()):.1f}",
            f"added during the outage                     mean {mean(added):.1f}, max {max(added)}",
            f"  first part (cut -> {self.settled.at:.0f} s: the action, the failed local "
            f"projection, the hand-over)  mean {mean(first):.1f}, max {max(first)}",
            f"  last part ({self.settled.at:.0f} -> {self.end.at:.0f} s: time alone)"
            f"  mean {mean(last):.1f}, max {max(last)}  ({rate:.2f} events/case/min)",
            f"mean growth since the cut, by time           {series}",
            f"extrapolated per day of outage              {self.per_day:.0f} events/case "
            f"(first part's max + last part's max rate x the rest of 24 h; "
            f"target <= {TARGET_PER_DAY})",
            f"catch-up after the restore                  {catch_up} "
            f"(events it added: mean "
            f"{mean(self.after[c] - self.end.lengths[c] for c in self.after):.1f})",
            f"read model vs rebuild                       diff {len(self.diff)} rows "
            f"({self.rebuilt} cases rebuilt)",
            *[f"  differs: {row}" for row in self.diff[:10]],
            "RESULT: " + ("within the target, caught up, diff 0" if self.ok else "FAILED"),
        ]


@contextlib.contextmanager
def fresh_database(server_url: str, label: str) -> Iterator[URL]:
    """A new, empty PostgreSQL database on ``server_url``, dropped afterwards."""
    server = make_url(normalize_url(server_url))
    name = f"gf_outage_{label}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(
        server.set(database="postgres"),
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
        connect_args={"connect_timeout": 5},
    )
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield server.set(database=name)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _through(proxy: CuttableProxy, url: URL) -> str:
    # connect_timeout: a connect the outage leaves hanging must not hold an
    # activity thread (the proxy refuses at once; a real outage may not).
    proxied = url.set(
        host="127.0.0.1", port=proxy.port, query={**url.query, "connect_timeout": "3"}
    )
    return proxied.render_as_string(hide_password=False)


async def _bring_to_stage(driver: Driver, index: int, stage: str) -> dict[str, Any]:
    """File case ``index`` and drive it over HTTP up to ``stage``."""
    case = await driver.file(index)
    case_id, keys = case["id"], driver.keys
    if stage == "classify":
        return case
    case = await driver.act(case_id, "dispatch", keys["dispatcher"], {"category": CATEGORY})
    if stage == "accept":
        return case
    unit = keys["units"][case["unit"]]
    case = await driver.act(case_id, "accept", unit, {"note": "签收"})
    if stage == "handle":
        return case
    await driver.act(case_id, "progress", unit, {"note": f"已到现场 {index}"})
    return await driver.act(case_id, "complete", unit, {"result": "resolved", "note": "已拆除"})


def _next_action(stage: str, case: dict[str, Any], route: dict[str, Any]) -> tuple[Action, object]:
    """The action a case in ``stage`` gets during the outage, as the API would build it."""
    if stage == "classify":
        return Action.DISPATCH, DispatchInput(
            actor=Actor(Role.DISPATCHER), category=CATEGORY, unit=route["unit"], tier=route["tier"]
        )
    unit = Actor(Role.UNIT, case["unit"])
    if stage == "accept":
        return Action.ACCEPT, AcceptInput(actor=unit, note="签收")
    if stage == "handle":
        return Action.PROGRESS, ProgressInput(actor=unit, note="停电期间的反馈")
    return Action.RECHECK, RecheckInput(
        actor=Actor(Role.VERIFIER), passed=True, satisfaction=Satisfaction.SATISFIED
    )


async def _lengths(client: Client, case_ids: list[str], gate: asyncio.Semaphore) -> dict[str, int]:
    async def one(case_id: str) -> int:
        async with gate:
            described = await client.get_workflow_handle(case_id).describe()
        return described.raw_description.workflow_execution_info.history_length

    lengths = await asyncio.gather(*(one(case_id) for case_id in case_ids))
    return dict(zip(case_ids, lengths, strict=True))


async def _live_seqs(
    client: Client, case_ids: list[str], gate: asyncio.Semaphore
) -> dict[str, int]:
    async def one(case_id: str) -> int:
        async with gate:
            case: CaseView = await client.get_workflow_handle(case_id).query(
                "case", result_type=CaseView
            )
        return case.last_seq

    seqs = await asyncio.gather(*(one(case_id) for case_id in case_ids))
    return dict(zip(case_ids, seqs, strict=True))


def _projected_seqs(engine: Engine, case_ids: list[str]) -> dict[str, int]:
    with Session(engine) as session:
        rows = session.exec(
            select(CaseRecord.id, CaseRecord.last_seq).where(col(CaseRecord.id).in_(case_ids))
        ).all()
    return dict(rows)


async def _wait_projected(
    engine: Engine, wanted: dict[str, int], *, patience: float
) -> float | None:
    """Seconds until the read model holds ``wanted``'s last_seq for every case; None if never."""
    started = time.monotonic()
    while time.monotonic() - started < patience:
        seqs = await asyncio.to_thread(_projected_seqs, engine, list(wanted))
        if all(seqs.get(case_id) == seq for case_id, seq in wanted.items()):
            return time.monotonic() - started
        await asyncio.sleep(0.5)
    return None


async def _sleep_until(moment: float) -> None:
    await asyncio.sleep(max(0.0, moment - time.monotonic()))


async def run_outage(options: OutageOptions, say: Callable[[str], None] = print) -> OutageReport:
    """Run the whole benchmark on temporary databases and a data dir; return its report."""
    server = make_url(normalize_url(options.server_url))
    with (
        tempfile.TemporaryDirectory(prefix="grievance-outage-", dir=options.tmp_root) as tmp,
        fresh_database(options.server_url, "live") as live_url,
        fresh_database(options.server_url, "rebuilt") as rebuilt_url,
        CuttableProxy(server.host or "127.0.0.1", server.port or 5432) as proxy,
    ):
        root = Path(tmp)
        up = Up(
            root / "data",
            free_port(),
            free_temporal_port(),
            root / "up.log",
            settings={"DATABASE_URL": _through(proxy, live_url)},
        )
        direct = make_engine(live_url.render_as_string(hide_password=False))
        rebuilt = make_engine(rebuilt_url.render_as_string(hide_password=False))
        try:
            async with httpx.AsyncClient(base_url=up.api_url, timeout=60) as http:
                up.start()
                await up.wait_healthy(http)
                return await _measure(options, up, http, proxy, direct, rebuilt, say)
        finally:
            proxy.restore()
            code = up.stop()
            say(f"grievance up exited with {code} after SIGTERM")
            direct.dispose()
            rebuilt.dispose()


async def _measure(
    options: OutageOptions,
    up: Up,
    http: httpx.AsyncClient,
    proxy: CuttableProxy,
    direct: Engine,
    rebuilt: Engine,
    say: Callable[[str], None],
) -> OutageReport:
    keys = json.loads((up.data_dir / "dev-keys.json").read_text("utf-8"))
    driver = Driver(http, keys, run_id=f"outage-{int(time.time())}")
    gate = asyncio.Semaphore(options.concurrency)
    stages = [STAGES[index % len(STAGES)] for index in range(options.cases)]

    async def bounded(index: int) -> dict[str, Any]:
        async with gate:
            return await _bring_to_stage(driver, index, stages[index])

    say(f"driving {options.cases} cases to {', '.join(STAGES)} over HTTP")
    cases = await asyncio.gather(*(bounded(index) for index in range(options.cases)))
    route = next((case for case in cases if case["stage"] != "classify"), None)
    if route is None:  # every case in classify: learn the route from one more case
        route = await _bring_to_stage(driver, options.cases, "accept")
    ids = [case["id"] for case in cases]
    # up seals every payload: this client reads cases with the same ring.
    ring = read_ring(up.data_dir / CODEC_KEYS_FILE)
    client = await Client.connect(up.temporal_address, data_converter=sealed_converter(ring))
    looks = asyncio.Semaphore(20)
    if await _wait_projected(direct, await _live_seqs(client, ids, looks), patience=120) is None:
        raise SystemExit("the read model did not catch up before the outage")
    before = await _lengths(client, ids, looks)

    say(f"cutting PostgreSQL for {options.minutes:g} min; one action per case meanwhile")
    proxy.cut()
    cut = time.monotonic()
    until = cut + options.minutes * 60

    async def act(case: dict[str, Any], stage: str) -> None:
        action, command = _next_action(stage, case, route)
        async with looks:
            await asyncio.wait_for(
                client.get_workflow_handle(case["id"]).execute_update(
                    action.value, command, result_type=CaseView
                ),
                120,
            )

    await asyncio.gather(*(act(case, stage) for case, stage in zip(cases, stages, strict=True)))
    answered = time.monotonic() - cut
    say(f"  every action answered {answered:.1f} s into the outage")
    settle = cut + max(answered + 2, LOCAL_PATIENCE.total_seconds() + HEARTBEAT + 2)
    await _sleep_until(min(settle, until))
    settled = Sample(time.monotonic() - cut, await _lengths(client, ids, looks))
    samples = []
    start = cut + settled.at
    for index in range(1, options.samples):
        await _sleep_until(start + index * (until - start) / options.samples)
        samples.append(Sample(time.monotonic() - cut, await _lengths(client, ids, looks)))
    await _sleep_until(until)
    end = Sample(time.monotonic() - cut, await _lengths(client, ids, looks))
    wanted = await _live_seqs(client, ids, looks)
    proxy.restore()
    outage = time.monotonic() - cut
    say(f"restored after {outage:.0f} s; waiting for the read model to catch up")
    catch_up = await _wait_projected(direct, wanted, patience=CATCH_UP_PATIENCE)
    after = await _lengths(client, ids, looks)

    say("rebuilding the read model from the histories into a fresh database")
    migrate(rebuilt)
    # Sealed like up's own read model (deterministically), so the rows compare.
    seal_read_model(rebuilt, FieldCipher(read_ring(up.data_dir / CODEC_KEYS_FILE)))
    summary = await rebuild_read_model(client, rebuilt)
    diff = await asyncio.to_thread(rows_differing, direct, rebuilt, ids)
    return OutageReport(
        options=options,
        stages={stage: stages.count(stage) for stage in STAGES},
        before=before,
        settled=settled,
        samples=samples,
        end=end,
        after=after,
        outage=outage,
        catch_up=catch_up,
        diff=diff,
        rebuilt=len(set(summary.rebuilt) & set(ids)),
        refused=proxy.refused,
    )


def main() -> int:
    """Parse the options, run the benchmark, print the report; exit 1 unless it holds."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=5.0, help="how long the outage lasts")
    parser.add_argument("--concurrency", type=int, default=10, help="cases driven at once")
    parser.add_argument(
        "--server", default=None, help="PostgreSQL server URL (default: DATABASE_TEST_URL or local)"
    )
    parser.add_argument("--tmp-root", type=Path, default=None, help="where the data dir goes")
    args = parser.parse_args()
    options = OutageOptions(
        cases=args.cases, minutes=args.minutes, concurrency=args.concurrency, tmp_root=args.tmp_root
    )
    if args.server:
        options.server_url = args.server
    report = asyncio.run(run_outage(options, lambda line: print(line, flush=True)))
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
