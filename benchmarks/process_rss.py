"""Resident memory of a process tree, read from ``/proc``: which process holds the memory.

Linux only (the reference machine), like :mod:`benchmarks.cpu`, whose process
names it shares so that the CPU and RSS lines of a benchmark line up.
"""

from __future__ import annotations

from benchmarks.cpu import children, command_name
from benchmarks.rss import rss_kib


def tree_rss(root: int) -> dict[str, list[int]]:
    """The RSS in KiB of ``root`` and each descendant, grouped by process name."""
    found: dict[str, list[int]] = {}
    pending = [root]
    while pending:
        pid = pending.pop()
        pending += children(pid)
        kib = rss_kib(pid)
        if kib is not None:
            found.setdefault(command_name(pid), []).append(kib)
    return found


def rss_line(found: dict[str, list[int]]) -> str:
    """``RSS MB: grievance up 95, grievance worker 2×110, ...`` for a :func:`tree_rss` result.

    Several processes of one name (up's worker processes) show as count × mean.
    """
    parts = []
    for name, sizes in sorted(found.items(), key=lambda item: -sum(item[1])):
        mean = sum(sizes) / len(sizes) / 1024
        parts.append(f"{name} {mean:.0f}" if len(sizes) == 1 else f"{name} {len(sizes)}×{mean:.0f}")
    return f"RSS MB: {', '.join(parts) or 'none'}"
