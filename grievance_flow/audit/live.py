"""Histories straight from the server: every workflow a visibility query matches."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

from temporalio.client import Client, WorkflowExecution, WorkflowHistory

from grievance_flow.audit.histories import WORKFLOW_TYPE

ALL_GRIEVANCES = f"WorkflowType = '{WORKFLOW_TYPE}'"
"""The visibility query for every case, open or closed."""

PREFETCH = 8
"""Histories fetched ahead while earlier ones are replayed."""


@dataclass(frozen=True)
class LiveHistory:
    """One run's history, or why it could not be fetched.

    Attributes:
        source: ``temporal:<workflow id>@<run id>``, what output lines call it.
        workflow_id: The case id.
        history: The history, or None when fetching it failed.
        error: Why it could not be fetched (None when it was).
    """

    source: str
    workflow_id: str
    history: WorkflowHistory | None
    error: str | None = None


async def matching_runs(client: Client, query: str) -> list[WorkflowExecution]:
    """Every run the visibility query matches (listed up front, so a total is known)."""
    return [execution async for execution in client.list_workflows(query)]


async def fetch_histories(
    client: Client, runs: list[WorkflowExecution]
) -> AsyncIterator[LiveHistory]:
    """Each run's history, in the order of ``runs``, a few fetched ahead."""
    window: list[asyncio.Task[LiveHistory]] = []
    try:
        for run in runs:
            window.append(asyncio.create_task(_fetch(client, run)))
            if len(window) >= PREFETCH:
                yield await window.pop(0)
        while window:
            yield await window.pop(0)
    finally:
        for task in window:
            task.cancel()


async def _fetch(client: Client, run: WorkflowExecution) -> LiveHistory:
    source = f"temporal:{run.id}@{run.run_id}"
    try:
        handle = client.get_workflow_handle(run.id, run_id=run.run_id)
        history = await handle.fetch_history()
    except Exception as exc:  # one unreadable run is one failed line, not a crash
        return LiveHistory(source, run.id, None, f"could not fetch the history: {exc}")
    return LiveHistory(source, run.id, history)
