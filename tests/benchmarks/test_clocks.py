"""The clocks benchmark, tiny: 20 cases due over 30 s, a workflow cache of 10.

Runs ``python -m benchmarks.clocks`` as the lead would, with second-long clocks
(the catalogue takes ``{seconds: N}``), and checks only that it ends well and
prints its figures: the planned spread, a lateness line per step, RSS per role
with PASS/FAIL verdicts, CPU per case and the worker's cache metrics. It never
asserts a speed (about a minute and a half on the 2-core machine). The full run
is ``python -m benchmarks.clocks --cases 20000 --spread-minutes 30`` (README,
"SLA clocks under load").
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmarks.clock_plan import SpreadPlan
from benchmarks.clocks import SpreadHint

ROOT = Path(__file__).resolve().parents[2]


def test_a_spread_hint_allows_for_the_filing_latency() -> None:
    hint = SpreadHint(SpreadPlan(cases=4, spread=40, filing=16))
    assert hint(1, 0.0) == "bench.clock-00030"
    for _ in range(100):
        hint.observe(5.0)
    assert hint(1, 0.0) == "bench.clock-00025"
    assert hint(0, 30.0) == "bench.clock-00001"
    assert hint.clamped == {0}


def test_a_tiny_spread_run_prints_its_figures(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "benchmarks.clocks",
        "--cases",
        "20",
        "--spread-minutes",
        "0.5",
        "--filing-minutes",
        "0.25",
        "--escalate-minutes",
        "0.25",
        "--concurrency",
        "4",
        "--workers",
        "1",
        "--workflow-cache",
        "10",
        "--tmp-root",
        str(tmp_path),
    ]
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "filed 20 cases" in out, out
    assert "cases due evenly over 30 s" in out, out
    for field in ("warn_at", "due_at", "escalate_at"):
        assert any(line.startswith(field) for line in out.splitlines()), out
    for step in ("sla_warning", "sla_overdue", "escalated"):
        assert any(line.startswith(f"{step} ") and " 20 " in line for line in out.splitlines()), out
        assert f" {step} p99 lateness" in out, out
    assert "NOT all escalated" not in out, out
    minutes = out.split("lateness by planned minute after filing ended", 1)[-1].splitlines()[1:]
    assert minutes and minutes[0].lstrip().startswith(("+0 min", "-1 min")), out
    assert "KiB/case, all open" in out, out
    assert " worker 1 peak RSS" in out, out
    assert " dev server peak RSS" in out, out
    assert "clocks, CPU ms per case:" in out, out
    assert "workflow cache, worker 1" in out and "miss" in out, out
