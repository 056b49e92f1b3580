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
