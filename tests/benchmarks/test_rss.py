"""Roles in a process tree: up, its workers by number, its dev server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks import rss


@pytest.fixture
def tree(tmp_path: Path) -> Iterator[int]:
    """A stand-in for up: a process with a 'start-dev' child and two 'worker' children."""
    script = tmp_path / "up.py"
    script.write_text(
        "import subprocess, sys, time\n"
        "kids = [subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)', word])"
        " for word in ('start-dev', 'worker', 'worker')]\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    up = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert up.stdout is not None and up.stdout.readline() == "ready\n"
    try:
        yield up.pid
    finally:
        kids = rss.roles(up.pid)
        up.kill()
        up.wait()
        for role, pid in kids.items():
            if role != rss.UP:
                os.kill(pid, 9)


def test_the_roles_of_a_tree_are_found_by_command_line(tree: int) -> None:
    found = rss.roles(tree)
    assert sorted(found) == ["dev server", "up", "worker 1", "worker 2"]
    assert found["worker 1"] < found["worker 2"]


def test_the_sampler_keeps_a_peak_per_role(tree: int) -> None:
    sampler = rss.RssSampler(tree)
    now = sampler.sample()
    time.sleep(0.05)
    sampler.sample()
    assert set(now) == set(sampler.peaks) == {"up", "worker 1", "worker 2", "dev server"}
    assert all(peak >= now[role] > 0 for role, peak in sampler.peaks.items())
    assert sampler.samples == 2


def test_roles_read_in_order() -> None:
    names = {"dev server", "worker 10", "up", "worker 2"}
    assert rss.role_order(names) == ["up", "worker 2", "worker 10", "dev server"]
    assert rss.rss_kib(os.getpid()) is not None
