"""The case-memory benchmark, tiny: five cases, traced.

Runs ``python -m benchmarks.case_memory`` as the lead would and checks only that
it ends well and prints its figures (RSS per case, the Python heap per case and
its top files); it never asserts a size. The real run is ``--cases 1000``
(README, "SLA clocks under load").
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_tiny_traced_run_prints_its_figures() -> None:
    command = [sys.executable, "-m", "benchmarks.case_memory"]
    command += ["--cases", "5", "--warm", "2", "--trace", "3", "--settle", "1"]

    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    [rss] = [line for line in lines if line.startswith("worker (unsandboxed) RSS")]
    assert "KiB per case" in rss and "5 more cases" in rss, rss
    [heap] = [index for index, line in enumerate(lines) if line.startswith("python heap kept")]
    top = lines[heap + 1 : heap + 4]
    assert len(top) == 3 and all("KiB" in line and "blocks" in line for line in top), lines
