"""The HTTP calls and the bookkeeping that the open-loop benchmarks share.

Every call has a *scheduled* send time, given by the benchmark's schedule, and
is timed twice: latency from the scheduled time (what a caller on that schedule
sees, the client's own queueing included, so that a slow answer cannot hide the
calls it held up: no coordinated omission) and service time from the actual
send. Lag is how late the send was launched against the schedule: the load
generator's own delay, which must stay small for the figures to be the system's.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from benchmarks.lifecycle import STEPS, filing_body, percentile

CALLS = ("file", *(step[0] for step in STEPS))
"""Every call of a lifecycle in order: file, then the five actions."""

_STEP = {name: (role, payload) for name, role, payload in STEPS}


@dataclass
class Timings:
    """What a set of calls took, in seconds, and how many failed and why."""

    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    service: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    lag: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    sent: list[float] = field(default_factory=list)
    answered: list[float] = field(default_factory=list)

    def reset(self) -> None:
        """Forget everything recorded so far: a new window starts (calls in flight record here)."""
        self.latency.clear()
        self.service.clear()
        self.lag.clear()
        self.errors.clear()
        self.sent.clear()
        self.answered.clear()

    def count(self, names: Iterable[str] = CALLS) -> int:
        """How many of these calls were answered (2xx or not)."""
        return sum(len(self.latency[name]) for name in names)

    def pooled(self, names: Sequence[str]) -> tuple[list[float], list[float]]:
        """Latency and service times of several calls together."""
        latency = [value for name in names for value in self.latency[name]]
        service = [value for name in names for value in self.service[name]]
        return latency, service


@dataclass
class Answer:
    """One call's outcome: the case as answered (None on an error) and when the answer came."""

    case: dict[str, Any] | None
    at: float


@dataclass
class Caller:
    """Makes one lifecycle call with the right dev key and records it in some :class:`Timings`."""

    http: httpx.AsyncClient
    keys: dict[str, Any]

    async def call(
        self,
        name: str,
        case: dict[str, Any] | None,
        scheduled: float,
        into: Sequence[Timings],
    ) -> Answer:
        """Send ``name`` (``file`` or a step of ``case``) and record it in each of ``into``.

        Times are ``time.perf_counter()``. Every answered call counts in the
        latencies, errors included (an error is no quicker an answer for its
        caller), and each error is counted apart as well:
        a non-2xx answer by status, a transport failure by its exception's name, a
        call cancelled before its answer (the run ended) as ``unanswered``.
        """
        if name == "file":
            url, body, key = "/v1/grievances", filing_body(), self.keys["hotline"]
        else:
            assert case is not None
            role, body = _STEP[name]
            key = self.keys["units"][case["unit"]] if role == "unit" else self.keys[role]
            url = f"/v1/grievances/{case['id']}/{name}"
        sent = time.perf_counter()
        try:
            response = await self.http.post(
                url, json=body, headers={"Authorization": f"Bearer {key}"}
            )
        except httpx.TransportError as err:
            failure: str | None = type(err).__name__
        except asyncio.CancelledError:
            for timings in into:
                timings.errors["unanswered"] += 1
            raise
        else:
            failure = None if response.is_success else str(response.status_code)
        answered = time.perf_counter()
        for timings in into:
            timings.latency[name].append(answered - scheduled)
            timings.service[name].append(answered - sent)
            timings.lag.append(sent - scheduled)
            timings.sent.append(sent)
            timings.answered.append(answered)
            if failure is not None:
                timings.errors[failure] += 1
        if failure is not None:
            return Answer(None, answered)
        case_now: dict[str, Any] = response.json()
        return Answer(case_now, answered)


def ms(values: list[float], fraction: float) -> str:
    """The ``fraction`` quantile of ``values`` in ms, ``-`` for none."""
    return f"{percentile(values, fraction) * 1000:.1f}" if values else "-"


def latency_table(timings: Timings, rows: Sequence[tuple[str, Sequence[str]]]) -> list[str]:
    """Lines of a table: per row (a label and the calls it pools) count and quantiles in ms."""
    header = (
        f"{'call':<9} {'n':>6}  {'p50':>7} {'p99':>7} {'max':>7}   {'p50':>7} {'p99':>7} {'max':>7}"
    )
    lines = [
        f"{'':<9} {'':>6}  {'latency from schedule, ms':>23}   {'service time, ms':>23}",
        header,
    ]
    for label, names in rows:
        latency, service = timings.pooled(names)
        lines.append(
            f"{label:<9} {len(latency):>6}  {ms(latency, 0.5):>7} {ms(latency, 0.99):>7} "
            f"{ms(latency, 1.0):>7}   {ms(service, 0.5):>7} {ms(service, 0.99):>7} "
            f"{ms(service, 1.0):>7}"
        )
    return lines


def errors_line(timings: Timings) -> str:
    """``errors: none`` or ``errors: 503×2, ReadTimeout×1``."""
    if not timings.errors:
        return "errors: none"
    parts = [f"{what}×{count}" for what, count in sorted(timings.errors.items())]
    return f"errors: {sum(timings.errors.values())} ({', '.join(parts)})"


LAG_LIMIT = 0.005
"""Generator lag (p99) above which its delay shows in the latencies: 5 ms."""

BUSY_LIMIT = 0.5
"""Share of a core above which the generator's own work may be what delays it."""


def lag_line(timings: Timings, core_share: float) -> str:
    """The generator's lag quantiles, its CPU, and whether it kept to its schedule.

    ``core_share`` is the generator process's CPU time over the run's wall time:
    late sends from a generator that was mostly idle mean the machine's other
    processes held the cores, not that the generator is the bottleneck.
    """
    lag = timings.lag
    if lag and percentile(lag, 0.99) <= LAG_LIMIT:
        judged = "it kept to its schedule"
    elif core_share > BUSY_LIMIT:
        judged = "WARNING: it lagged and is busy, it may be the bottleneck"
    else:
        judged = "WARNING: it lagged though mostly idle: the cores were busy elsewhere"
    return (
        f"generator lag (send launched − scheduled): p50 {ms(lag, 0.5)} ms, "
        f"p99 {ms(lag, 0.99)} ms, max {ms(lag, 1.0)} ms; generator CPU "
        f"{core_share:.0%} of a core; {judged}"
    )


def verdict(label: str, values: list[float], limit_ms: float) -> str:
    """``PASS``/``FAIL`` line: is the p99 of ``values`` within ``limit_ms``?"""
    if not values:
        return f"FAIL {label} p99 ≤ {limit_ms:.0f} ms: no answers"
    p99 = percentile(values, 0.99) * 1000
    return f"{'PASS' if p99 <= limit_ms else 'FAIL'} {label} p99 ≤ {limit_ms:.0f} ms: {p99:.1f} ms"


async def sleep_until(moment: float) -> None:
    """Sleep until ``time.perf_counter()`` reaches ``moment`` (at once if it is past)."""
    delay = moment - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)


def client(base_url: str, connections: int) -> httpx.AsyncClient:
    """One client for the whole run, with room for ``connections`` calls in flight."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits)
