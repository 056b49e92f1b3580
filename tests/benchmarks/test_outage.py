"""The outage benchmark, tiny: 5 cases, PostgreSQL cut for 30 s.

Asserts counts only (never time): no case's history grows once the outage is
past the local patience and a heartbeat, the extrapolated cost is within
issue 8's 100 events per case per day, every case catches up, and the read
model equals a rebuild. The full run is ``python -m benchmarks.outage``
(README, "Outage benchmark").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.outage import TARGET_PER_DAY, OutageOptions, run_outage
from tests.databases import (
    DatabaseUnavailableError,
    make_test_database_url,
    postgres_server_url,
    skip_or_fail_unavailable,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def server_url() -> str:
    """The PostgreSQL server, once it is known to take a CREATE DATABASE."""
    try:
        _, drop = make_test_database_url("postgres")
    except DatabaseUnavailableError as err:
        skip_or_fail_unavailable(err)
    drop()
    return postgres_server_url()


async def test_an_outage_costs_each_case_a_bounded_few_events(
    tmp_path: Path, server_url: str
) -> None:
    options = OutageOptions(cases=5, minutes=0.5, server_url=server_url, tmp_root=tmp_path)
    report = await run_outage(options, say=lambda _line: None)
    summary = "\n".join(report.lines())
    assert report.refused > 0, summary  # the outage was real
    assert max(report.last_part) == 0, summary
    assert report.per_day <= TARGET_PER_DAY, summary
    assert report.catch_up is not None, summary
    assert report.diff == [], summary
    assert report.rebuilt == 5, summary
