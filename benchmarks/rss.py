"""Resident memory of ``grievance up``'s process tree, by role: API, each worker, dev server.

``up`` runs the API in its own process, its workers as ``grievance worker``
children (``--workers N``; none with ``--workers 0``, when up's own process is
the worker too) and the Temporal dev server as another child. A benchmark
samples each role's VmRSS from ``/proc`` and keeps its peak. Linux only.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.cpu import children

UP = "up"
"""Role of ``grievance up``'s own process: the API (and the worker, with ``--workers 0``)."""
DEV_SERVER = "dev server"
"""Role of the Temporal dev server that ``up`` started."""
WORKER = "worker"
"""Role prefix of up's worker children: ``worker 1``, ``worker 2``... in pid order."""


def rss_kib(pid: int) -> int | None:
    """VmRSS of ``pid`` in KiB, or None once the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _argv(pid: int) -> list[bytes]:
    # A process in the middle of exec shows an empty command line for a moment
    # (its new arguments are not mapped yet): look again shortly.
    for _ in range(20):
        try:
            text = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return []
        if text:
            return [word for word in text.split(b"\0") if word]
        time.sleep(0.01)
    return []


def roles(up_pid: int) -> dict[str, int]:
    """The pid of each role in ``up``'s tree: ``up``, ``dev server``, ``worker 1``...

    A child whose command line says ``start-dev`` is the dev server; one that
    says ``worker`` is a worker. Workers are numbered in pid order (start order,
    unless a restarted one took a higher pid).
    """
    found = {UP: up_pid}
    workers: list[int] = []
    for pid in sorted(children(up_pid)):
        argv = _argv(pid)
        if b"start-dev" in argv:
            found[DEV_SERVER] = pid
        elif b"worker" in argv:
            workers.append(pid)
    for number, pid in enumerate(workers, start=1):
        found[f"{WORKER} {number}"] = pid
    return found


def is_worker(role: str) -> bool:
    """Whether ``role`` names one of up's worker children."""
    return role.startswith(f"{WORKER} ")


@dataclass
class RssSampler:
    """Samples the RSS of every role in ``up``'s tree and keeps each role's peak (KiB)."""

    up_pid: int
    peaks: dict[str, int] = field(default_factory=dict)
    samples: int = 0

    def sample(self) -> dict[str, int]:
        """Take one sample now: KiB per role found (the tree is looked up afresh each time)."""
        now: dict[str, int] = {}
        for role, pid in roles(self.up_pid).items():
            kib = rss_kib(pid)
            if kib is not None:
                now[role] = kib
                self.peaks[role] = max(self.peaks.get(role, 0), kib)
        self.samples += 1
        return now

    async def run(self, every: float) -> None:
        """Sample every ``every`` seconds until cancelled."""
        while True:
            self.sample()
            await asyncio.sleep(every)


def role_order(names: set[str]) -> list[str]:
    """Roles in reading order: up, the workers by number, the dev server."""

    def key(role: str) -> tuple[int, int, str]:
        if role == UP:
            return (0, 0, role)
        if is_worker(role):
            return (1, int(role.split()[1]), role)
        return (2, 0, role)

    return sorted(names, key=key)


def mib(kib: float) -> str:
    """KiB as MiB, one decimal."""
    return f"{kib / 1024:.1f}"
