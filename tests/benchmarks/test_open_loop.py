"""The open-loop benchmark, tiny: 5 actions/s for 8 s after 2 s of warmup.

Runs ``python -m benchmarks.open_loop`` as a subprocess against a real embedded
system and checks that it exits 0 and prints its figures. It asserts no speed:
the PASS/FAIL lines are only checked to be there. The full run is
``python -m benchmarks.open_loop --rate 20``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_runs_and_prints_its_figures(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "benchmarks.open_loop", "--rate", "5"]
    command += ["--duration", "8", "--warmup", "2", "--tmp-root", str(tmp_path)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    for figure in [
        r"^achieved: [\d.]+ actions/s sent, [\d.]+ answered/s",
        r"^file +\d+ ",
        r"^action +\d+ ",
        *(rf"^{call} +\d+ " for call in ["dispatch", "accept", "progress", "complete", "recheck"]),
        r"^errors: none$",
        r"^generator lag \(send launched − scheduled\): p50 ",
        r"^CPU ms per action: .*\(total [\d.]+\)$",
        r"^(PASS|FAIL) action p99 ≤ 100 ms: ",
        r"^(PASS|FAIL) file p99 ≤ 150 ms: ",
    ]:
        assert re.search(figure, done.stdout, re.MULTILINE), f"{figure!r} not in\n{output}"
