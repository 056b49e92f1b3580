"""The open-loop benchmark: its schedule against a fake API, and a tiny real run.

The real run is 5 actions/s for 8 s after 2 s of warmup: ``python -m
benchmarks.open_loop`` as a subprocess against a real embedded system, checked
to exit 0 and print its figures. It asserts no speed: the PASS/FAIL lines are
only checked to be there. The full run is ``python -m benchmarks.open_loop --rate 20``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx

from benchmarks.load import Caller
from benchmarks.open_loop import ACTIONS, OpenLoop, OpenLoopOptions

ROOT = Path(__file__).resolve().parents[2]


async def test_every_slot_sends_one_call_and_every_sixth_files_a_case() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"id": "case-1", "unit": "unit-a"})

    keys = {"hotline": "h", "dispatcher": "d", "verifier": "v", "units": {"unit-a": "u"}}
    http = httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://api")
    options = OpenLoopOptions(rate=600, duration=0.5, warmup=0.1)
    async with http:
        loop = OpenLoop(Caller(http, keys), options)
        await loop.run()
    assert loop.every.count() == 360  # (0.1 + 0.5) s at 600/s, each answered
    assert loop.measured.count() == 300
    assert loop.filed >= 360 // 6
    assert loop.filed + sum(len(loop.every.latency[name]) for name in ACTIONS) == 360
    assert not loop.every.errors


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
