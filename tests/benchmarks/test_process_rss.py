"""RSS of a process tree by process name, and its one-line summary."""

from __future__ import annotations

import os
import subprocess
import sys

from benchmarks.cpu import command_name
from benchmarks.process_rss import rss_line, tree_rss
from benchmarks.rss import rss_kib


def test_a_tree_holds_this_process_and_its_children() -> None:
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as child:
        try:
            found = tree_rss(os.getpid())
            sizes = [size for group in found.values() for size in group]
            assert len(sizes) >= 2, found
            assert all(size > 0 for size in sizes), found
            assert command_name(child.pid) in found, found
        finally:
            child.kill()


def test_a_process_that_is_gone_has_no_rss() -> None:
    with subprocess.Popen([sys.executable, "-c", "pass"]) as child:
        child.wait()
    assert rss_kib(child.pid) is None


def test_the_line_shows_one_size_or_count_times_mean_in_mb() -> None:
    line = rss_line({"grievance worker": [100 * 1024, 120 * 1024], "grievance up": [90 * 1024]})
    assert line == "RSS MB: grievance worker 2×110, grievance up 90"
    assert rss_line({}) == "RSS MB: none"
