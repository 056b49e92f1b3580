"""The Beijing day benchmark, tiny: 20 cases at 5/s, half of them driven to closed.

Runs ``python -m benchmarks.beijing_day`` as a subprocess against a real
embedded system and checks that it exits 0, files and dispatches every case,
and prints its progress and final figures. It asserts no speed: the 2 h verdict
is only checked to be there. The full run is ``python -m benchmarks.beijing_day``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_runs_and_prints_its_figures(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "benchmarks.beijing_day", "--cases", "20", "--rate", "5"]
    command += ["--follow", "0.5", "--report-every", "2", "--tmp-root", str(tmp_path)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    for figure in [
        r"^t= *\d+s filed \d+ dispatched \d+ failed 0 \| rate .* \| backlog \d+, following \d+"
        r" \| p99 file .* \| RSS MB: .*temporal server",
        r"^cases: 20 at 5.00/s scheduled, 20 filed, 20 dispatched, 0 failed; "
        r"10 of the followed \(50%\) closed$",
        r"^elapsed: [\d.]+s to the last dispatch",
        r"^sustained: [\d.]+ cases/s",
        r"^(PASS|FAIL) 70,000 in ≤ 2 h \(at N = 20: ",
        r"^file +20 ",
        r"^dispatch +20 ",
        r"^recheck +10 ",
        r"^errors: none$",
        r"^generator lag ",
        r"^RSS MB: .* \(at the end\)$",
        r"^CPU ms per case: .*\(total [\d.]+\)$",
    ]:
        assert re.search(figure, done.stdout, re.MULTILINE), f"{figure!r} not in\n{output}"
