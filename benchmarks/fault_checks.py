"""What the fault suite checks once the load is over: lost, closed, doubled, rebuild diff."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from benchmarks.embedded import grievance_command

ONCE_PER_CASE = (
    "reported",
    "dispatched",
    "accepted",
    "progress",
    "completed",
    "rechecked",
    "closed",
)
"""Event types the suite's lifecycle records exactly once per case: a second one is a duplicate."""


@dataclass
class Findings:
    """The figures the fault suite reports."""

    existing: int
    lost: int
    closed: int
    duplicated: int
    cases_with_duplicates: int
    diff: int
    content_diff: int
    rebuilt_cases: int
    rebuilt_events: int


async def check_system(
    http: httpx.AsyncClient,
    keys: dict[str, Any],
    acknowledged: list[str],
    temporal_address: str,
    data_dir: Path,
    root: Path,
) -> Findings:
    """Check every acknowledged case in Temporal and the API, then rebuild and compare."""
    client = await Client.connect(temporal_address)
    gate = asyncio.Semaphore(16)
    statuses = await asyncio.gather(*(_status(client, case_id, gate) for case_id in acknowledged))
    existing = sum(status is not None for status in statuses)
    closed = sum(status == WorkflowExecutionStatus.COMPLETED for status in statuses)
    timelines = await asyncio.gather(
        *(_timeline(http, keys["auditor"], case_id, gate) for case_id in acknowledged)
    )
    extra = [_duplicates(events) for events in timelines]
    rebuilt = root / "rebuilt.db"
    _rebuild(data_dir, rebuilt)
    diff, content_diff, cases, events = _diff(data_dir / "readmodel.db", rebuilt)
    return Findings(
        existing=existing,
        lost=len(acknowledged) - existing,
        closed=closed,
        duplicated=sum(extra),
        cases_with_duplicates=sum(count > 0 for count in extra),
        diff=diff,
        content_diff=content_diff,
        rebuilt_cases=cases,
        rebuilt_events=events,
    )


async def _status(
    client: Client, case_id: str, gate: asyncio.Semaphore
) -> WorkflowExecutionStatus | None:
    async with gate:
        try:
            described = await client.get_workflow_handle(case_id).describe()
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return None
            raise
        return described.status


async def _timeline(
    http: httpx.AsyncClient, key: str, case_id: str, gate: asyncio.Semaphore
) -> list[dict[str, Any]]:
    async with gate:
        response = await http.get(
            f"/v1/grievances/{case_id}/events", headers={"Authorization": f"Bearer {key}"}
        )
    response.raise_for_status()
    events: list[dict[str, Any]] = response.json()
    return events


def _duplicates(events: list[dict[str, Any]]) -> int:
    """Events beyond the first of each once-per-case type, plus exact repeats of any other."""
    counts = Counter(event["type"] for event in events)
    doubled = sum(counts[kind] - 1 for kind in ONCE_PER_CASE if counts[kind] > 1)
    others = Counter(
        (event["type"], repr(sorted(event.get("data", {}).items())))
        for event in events
        if event["type"] not in ONCE_PER_CASE
    )
    return doubled + sum(count - 1 for count in others.values() if count > 1)


def _rebuild(data_dir: Path, target: Path) -> None:
    """``grievance projection rebuild`` of the running system into a fresh SQLite file."""
    env = {
        **{name: value for name, value in os.environ.items() if name != "TEMPORAL_ADDRESS"},
        "DATABASE_URL": f"sqlite:///{target.resolve()}",
    }
    subprocess.run(
        grievance_command("projection", "rebuild", "--data-dir", str(data_dir)),
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=900,
    )


_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)?$")


def _without_times(value: Any) -> Any:
    """``value`` with every timestamp (column value, or string inside a JSON doc) blanked."""
    if isinstance(value, str):
        if _TIMESTAMP.match(value):
            return "<time>"
        if value[:1] in "{[":
            try:
                return _without_times(json.loads(value))
            except ValueError:
                return value
        return value
    if isinstance(value, dict):
        return {key: _without_times(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_without_times(item) for item in value]
    return value


def _rows(path: Path, table: str, key: str) -> dict[Any, tuple[Any, ...]]:
    with sqlite3.connect(path) as connection:
        cursor = connection.execute(f"SELECT * FROM {table} ORDER BY {key}")
        columns = [column[0] for column in cursor.description]
        rows = cursor.fetchall()
    keys = [columns.index(name.strip()) for name in key.split(",")]
    return {tuple(row[i] for i in keys): row for row in rows}


def _diff(live: Path, rebuilt: Path) -> tuple[int, int, int, int]:
    """Rows of ``cases`` and ``events`` missing on either side or different.

    Returns all differences, those beyond timestamps, and the rebuilt case and event counts.
    """
    differences = content = 0
    sizes = []
    for table, key in (("cases", "id"), ("events", "case_id, seq")):
        ours, theirs = _rows(live, table, key), _rows(rebuilt, table, key)
        sizes.append(len(theirs))
        missing = len(ours.keys() ^ theirs.keys())
        changed = [k for k in ours.keys() & theirs.keys() if ours[k] != theirs[k]]
        differences += missing + len(changed)
        content += missing + sum(
            _without_times(ours[k]) != _without_times(theirs[k]) for k in changed
        )
    return differences, content, sizes[0], sizes[1]
