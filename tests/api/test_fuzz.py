"""A bounded schemathesis run against the real app and worker: no 5xx, no undocumented status.

The same :func:`benchmarks.fuzz.fuzz` that ``python -m benchmarks.fuzz`` runs
against ``grievance up`` (≥ 5,000 cases), here over real HTTP (uvicorn on this
event loop, beside the worker), with a read model on SQLite and on PostgreSQL:
some inputs (a NUL in a filter) only PostgreSQL refuses.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from benchmarks.fuzz import FuzzReport, fuzz
from grievance_flow.runtime import load_domain
from tests.api.conftest import Api, listening, running_api

CASES = 1200
"""Per database: about 15 s each on the 2-core reference machine."""
PATIENCE = 80.0
"""Seconds after which the run stops with what it sent: a bound, never a pass/fail criterion."""


@pytest.fixture
async def served(
    dev_env: WorkflowEnvironment, tmp_path: Path, database_url: str
) -> AsyncIterator[tuple[str, Api]]:
    """The app with its worker, listening on a free local port, on SQLite and on PostgreSQL."""
    domain = load_domain(None)
    async with (
        running_api(dev_env, tmp_path, domain, database_url=database_url) as api,
        listening(api) as base_url,
    ):
        yield base_url, api


async def test_fuzzing_finds_no_server_error_and_no_undocumented_status(
    served: tuple[str, Api],
) -> None:
    base_url, api = served
    keys = {role.value: key for role, key in api.keys.roles.items()}
    keys |= {f"unit:{unit}": key for unit, key in api.keys.units.items()}
    report: FuzzReport = await asyncio.to_thread(
        lambda: fuzz(
            base_url,
            keys,
            cases=CASES,
            seed=8,
            deadline=time.monotonic() + PATIENCE,
        )
    )
    print(report.summary())
    assert report.cases >= 100, report.summary()  # it did fuzz
    assert report.statuses[200] > 0 and report.statuses[422] > 0, report.summary()
    assert report.clean, report.summary()
