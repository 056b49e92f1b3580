"""Scrape a worker's Prometheus endpoint for what its workflow cache did.

With ``GRIEVANCE_METRICS_PORT`` P set, ``grievance up`` gives its worker
children ports P, P+1, ... (P itself with ``--workers 0``). The Temporal SDK
core exports its sticky (workflow) cache there: ``temporal_sticky_cache_size``
(cases held now), ``..._hit`` / ``..._miss`` (a workflow task found its case in
memory, or had to fetch and replay the whole history) and
``..._total_forced_eviction`` (cases pushed out to make room), and the count
of ``temporal_workflow_task_replay_latency``, a histogram the core records for
every workflow task it processes (hits plus misses, in our runs), shown as
``tasks``.
"""

from __future__ import annotations

import httpx

PREFIXES = ("temporal_sticky_cache", "temporal_workflow_task_replay_latency_count")
"""The metric families reported (summed over their label sets)."""


def parse(text: str, prefixes: tuple[str, ...] = PREFIXES) -> dict[str, float]:
    """Sum the samples of each metric in a Prometheus text page whose name starts so.

    ``_total`` is dropped from counter names, so old and new exporters agree.
    """
    found: dict[str, float] = {}
    for line in text.splitlines():
        if not line.startswith(prefixes):
            continue
        name_part, _, value = line.rpartition(" ")
        name = name_part.split("{", 1)[0].strip().removesuffix("_total")
        try:
            found[name] = found.get(name, 0.0) + float(value)
        except ValueError:
            continue
    return found


def scrape(port: int, host: str = "127.0.0.1", timeout: float = 5.0) -> dict[str, float] | None:
    """The cache metrics served on ``port``, or None if nothing answers there."""
    try:
        response = httpx.get(f"http://{host}:{port}/metrics", timeout=timeout)
        response.raise_for_status()
    except httpx.HTTPError:
        return None
    return parse(response.text)


def short(name: str) -> str:
    """``temporal_sticky_cache_miss`` → ``miss``; the replay-latency count → ``tasks``."""
    if name.startswith("temporal_workflow_task_replay_latency"):
        return "tasks"
    return name.removeprefix("temporal_sticky_cache_")


POLLING = "temporal_num_pollers"
"""A gauge the core exports once the worker polls its task queue."""


def polling(port: int, host: str = "127.0.0.1") -> bool:
    """Whether the worker serving metrics on ``port`` polls its task queue yet."""
    try:
        response = httpx.get(f"http://{host}:{port}/metrics", timeout=2.0)
    except httpx.HTTPError:
        return False
    return response.is_success and POLLING in response.text


PROGRESS = (
    "temporal_sticky_cache_hit",
    "temporal_sticky_cache_miss",
    "temporal_sticky_cache_total_forced_eviction",
    "temporal_workflow_task_schedule_to_start_latency_sum",
    "temporal_workflow_task_schedule_to_start_latency_count",
    "temporal_workflow_task_execution_latency_sum",
    "temporal_workflow_task_execution_latency_count",
    "temporal_local_activity_execution_latency_sum",
    "temporal_local_activity_execution_latency_count",
    "temporal_activity_schedule_to_start_latency_sum",
    "temporal_activity_schedule_to_start_latency_count",
    "temporal_workflow_task_execution_failed",
    "temporal_workflow_task_timeouts",
)
"""What :func:`progress_line` follows between two scrapes."""

_MEANS = (
    ("wft wait", "temporal_workflow_task_schedule_to_start_latency"),
    ("wft run", "temporal_workflow_task_execution_latency"),
    ("LA", "temporal_local_activity_execution_latency"),
    ("act wait", "temporal_activity_schedule_to_start_latency"),
)


def scrape_progress(port: int, host: str = "127.0.0.1") -> dict[str, float] | None:
    """The :data:`PROGRESS` metrics served on ``port``, or None if nothing answers."""
    try:
        response = httpx.get(f"http://{host}:{port}/metrics", timeout=5.0)
        response.raise_for_status()
    except httpx.HTTPError:
        return None
    return parse(response.text, PROGRESS)


def progress_line(before: dict[str, float], now: dict[str, float]) -> str:
    """What the worker did between two scrapes: cache traffic, mean waits (ms), failures.

    ``wft wait``: workflow task schedule-to-start (the task queued on the
    server for a free slot); ``wft run``: its execution; ``LA``: local
    activities (the notice hand-over); ``act wait``: activities' schedule-to-start.
    """

    def delta(name: str) -> float:
        return now.get(name, 0.0) - before.get(name, 0.0)

    parts = [
        f"hit {delta('temporal_sticky_cache_hit'):.0f}",
        f"miss {delta('temporal_sticky_cache_miss'):.0f}",
        f"evicted {delta('temporal_sticky_cache_total_forced_eviction'):.0f}",
    ]
    for label, family in _MEANS:
        count = delta(f"{family}_count")
        if count:
            # Seconds on the page (telemetry.py: durations_as_seconds).
            parts.append(f"{label} {delta(f'{family}_sum') / count * 1000:.0f} ms")
    failed = delta("temporal_workflow_task_execution_failed") + delta(
        "temporal_workflow_task_timeouts"
    )
    if failed:
        parts.append(f"wft failed/timed out {failed:.0f}")
    return ", ".join(parts)
