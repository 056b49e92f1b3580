"""CPU time of a process tree, read from ``/proc``: where a benchmark's cores went.

A throughput figure says how fast; the CPU seconds each process spent per case
say which process to profile. Linux only (the reference machine).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after it.
    return text[text.rindex(")") + 2 :].split()


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds ``pid`` has used so far (0 once it is gone)."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    # utime and stime are fields 14 and 15 of stat, 12 and 13 after the name.
    return (int(fields[11]) + int(fields[12])) / _TICKS


def children(pid: int) -> list[int]:
    """The direct children of ``pid``."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def command_name(pid: int) -> str:
    """A short name for ``pid``: its program and first distinguishing argument."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return f"pid {pid}"
    words = [word.decode(errors="replace") for word in argv if word]
    program = Path(words[0]).name if words else f"pid {pid}"
    for word in words[1:]:
        if word in ("up", "worker", "serve", "server"):
            return f"{program} {word}"
    return program


@dataclass
class CpuSample:
    """CPU seconds per process of a tree at one moment."""

    seconds: dict[int, float]
    names: dict[int, str]

    @classmethod
    def of_tree(cls, root: int) -> CpuSample:
        """Sample ``root`` and all its descendants."""
        seconds: dict[int, float] = {}
        names: dict[int, str] = {}
        pending = [root]
        while pending:
            pid = pending.pop()
            seconds[pid] = cpu_seconds(pid)
            names[pid] = command_name(pid)
            pending += children(pid)
        return cls(seconds, names)

    def since(self, earlier: CpuSample) -> dict[str, float]:
        """CPU seconds spent per process name between ``earlier`` and this sample."""
        spent: dict[str, float] = {}
        for pid, seconds in self.seconds.items():
            name = self.names[pid]
            spent[name] = spent.get(name, 0.0) + seconds - earlier.seconds.get(pid, 0.0)
        return spent


def cpu_line(spent: dict[str, float], cases: int, *, unit: str = "case") -> str:
    """``CPU ms per case: name 12.3, ...`` for a :meth:`CpuSample.since` result.

    ``unit`` names what ``cases`` counts (``CPU ms per action: ...``).
    """
    parts = [
        f"{name} {seconds / cases * 1000:.1f}"
        for name, seconds in sorted(spent.items(), key=lambda item: -item[1])
        if seconds > 0
    ]
    total = sum(spent.values()) / cases * 1000
    return f"CPU ms per {unit}: {', '.join(parts)} (total {total:.1f})"
