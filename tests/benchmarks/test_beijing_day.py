"""The Beijing day benchmark: its bookkeeping against a fake API, and a tiny real run.

The real run is 20 cases at 5/s, half of them driven to closed: ``python -m
benchmarks.beijing_day`` as a subprocess against a real embedded system,
checked to exit 0, file and dispatch every case, and print its progress and
final figures. It asserts no speed: the 2 h verdict is only checked to be there.
The full run is ``python -m benchmarks.beijing_day``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx

from benchmarks.beijing_day import Day, DayOptions, followed, report
from benchmarks.load import Caller

ROOT = Path(__file__).resolve().parents[2]


def test_the_followed_cases_are_an_even_spread_of_the_fraction() -> None:
    assert [index for index in range(20) if followed(index, 0.25)] == [3, 7, 11, 15, 19]
    assert sum(followed(index, 0.1) for index in range(70_000)) == 7_000
    assert not any(followed(index, 0.0) for index in range(100))
    assert all(followed(index, 1.0) for index in range(100))


async def test_every_case_is_filed_and_dispatched_and_the_followed_ones_closed() -> None:
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path.rsplit("/", 1)[-1])
        return httpx.Response(201, json={"id": "case-1", "unit": "unit-a"})

    keys = {"hotline": "h", "dispatcher": "d", "verifier": "v", "units": {"unit-a": "u"}}
    http = httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://api")
    async with http:
        day = Day(Caller(http, keys), DayOptions(cases=30, rate=1000, follow=0.5), os.getpid())
        t0, done, before, after = await day.run()
    assert (day.scheduled, day.filed, day.dispatched, day.failed) == (30, 30, 30, 0)
    assert (day.closed, day.following) == (15, 0)
    assert calls.count("grievances") == 30
    assert calls.count("dispatch") == 30
    assert calls.count("recheck") == 15
    lines = report(day, t0, done, before, after)
    assert lines[0] == (
        "cases: 30 at 1000.00/s scheduled, 30 filed, 30 dispatched, 0 failed; "
        "15 of the followed (50%) closed"
    )


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
