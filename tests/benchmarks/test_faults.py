"""The short fault suite: 100 cases, two kill -9s (the dev server alone, and ``up``).

Asserts counts only (never time): nothing acknowledged is lost, no action is
recorded twice, every case closes, nobody saw a 5xx other than 503, and the
read model equals a rebuild from Temporal's histories, row for row.
The full run is ``python -m benchmarks.faults`` (README, "Fault suite").
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.faults import FaultOptions, run_faults


async def test_kills_lose_nothing_and_double_nothing(tmp_path: Path) -> None:
    options = FaultOptions(
        cases=100, kills=2, seed=8, concurrency=10, kinds=("dev-server", "up"), tmp_root=tmp_path
    )
    report = await run_faults(options)
    summary = "\n".join(report.lines())
    assert sorted(kill.kind for kill in report.kills) == ["dev-server", "up"], summary
    assert report.stuck == {}, summary
    assert report.acknowledged == 100, summary
    assert report.findings.lost == 0, summary
    assert report.findings.duplicated == 0, summary
    assert report.other_5xx == 0, summary
    assert report.findings.closed == 100, summary
    assert report.findings.diff == 0, summary
