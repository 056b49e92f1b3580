"""``grievance up --workers N``: N ``grievance worker`` child processes beside the API.

One Python process runs workflow tasks and activities on one core; a child per
spare core uses the machine. Each child is a plain ``grievance worker`` on
``up``'s dev server, task queue and read model (the environment says which),
so it behaves exactly as a worker of a multi-machine deployment.

The children die with ``up``, however ``up`` ends: a stop drains them (SIGTERM,
the worker's graceful shutdown), and the kernel SIGKILLs them if ``up`` itself
is killed (parent-death signal, as for the dev server). A child that dies on its
own is restarted once Temporal answers again; one that dies more than
:data:`MAX_RESTARTS` times within :data:`RESTART_WINDOW` seconds makes ``up``
stop with the reason (:class:`~grievance_flow.worker.WorkerStoppedError`).
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio.client import Client

from grievance_flow.worker import WorkerStoppedError

log = logging.getLogger(__name__)

MAX_RESTARTS = 3
"""Restarts of one child allowed within :data:`RESTART_WINDOW`; one more death and ``up`` stops."""

RESTART_WINDOW = 60.0
"""Seconds over which a child's restarts are counted."""

TEMPORAL_PATIENCE = 20.0
"""Seconds a restart waits for Temporal to answer first (a child started while the dev
server is down would only die again at once, spending the restart budget for nothing)."""

DRAIN_PATIENCE = 20.0
"""Seconds stopping children get to drain (the worker's own graceful timeout is 10 s)."""

EXIT_POLL = 0.25
"""Seconds between looks at whether a child has exited."""

METRICS_PORT_VARIABLE = "GRIEVANCE_METRICS_PORT"
"""A worker's metrics port; child ``i`` (from 0) of ``up`` gets the given port + ``i``."""

_PR_SET_PDEATHSIG = 1


def default_worker_count() -> int:
    """One worker process per core beyond the first (the API's), and at least one.

    Counts the cores this process may run on (``sched_getaffinity``: a container's
    or ``taskset``'s limit), not merely those the machine has.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    return max(1, cores - 1)


def worker_command() -> list[str]:
    """``grievance worker``, run by this interpreter (no console script needed on PATH)."""
    return [sys.executable, "-m", "grievance_flow.cli.main", "worker"]


def child_environments(
    base: Mapping[str, str], settings: Mapping[str, str], count: int
) -> list[dict[str, str]]:
    """The environment of each of ``count`` children: ``base`` with ``settings`` on top.

    A metrics port in ``base`` is spread over the children (port, port + 1, ...):
    N workers cannot all listen on one port.
    """
    environments = []
    for index in range(count):
        env = {**base, **settings}
        if (port := env.get(METRICS_PORT_VARIABLE, "").strip()).isdigit():
            env[METRICS_PORT_VARIABLE] = str(int(port) + index)
        environments.append(env)
    return environments


def _die_with(parent: int) -> Callable[[], None]:
    def prepare() -> None:
        # Linux PR_SET_PDEATHSIG: if `up` is killed outright, the kernel kills the
        # child too, so no orphan keeps polling and writing the read model. SIGKILL:
        # a killed worker loses nothing (Temporal retries its tasks), and an orphan
        # draining for 10 s would only delay the next `up`.
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # `up` died before the line above: no signal will come
            os._exit(1)

    return prepare


@dataclass
class WorkerChild:
    """One ``grievance worker`` child process (restartable with the same environment)."""

    index: int
    env: dict[str, str]
    _process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the process; its output goes to ``up``'s own stdout and stderr.

        Call it from the event loop's thread: the parent-death signal is tied to
        the thread that started the child.
        """
        self._process = subprocess.Popen(
            worker_command(),
            env=self.env,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with(os.getpid()),
        )
        log.info("worker process %d started (pid %d)", self.index + 1, self._process.pid)

    @property
    def pid(self) -> int | None:
        """The current process's id, once started."""
        return self._process.pid if self._process is not None else None

    @property
    def exit_code(self) -> int | None:
        """The exit status (negative: killed by that signal), or None while it runs."""
        return self._process.poll() if self._process is not None else None

    def send(self, sig: signal.Signals) -> None:
        """Signal the process if it still runs."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(sig)


@dataclass
class WorkerChildren:
    """Runs, restarts and stops ``up``'s worker processes.

    Attributes:
        children: The worker processes.
        client: ``up``'s client, used to see Temporal answer before a restart.
        stopping: Set when ``up`` is stopping: a child that exits then is not restarted.
        restarts: How many restarts were made, all children together.
    """

    children: list[WorkerChild]
    client: Client
    stopping: asyncio.Event
    max_restarts: int = MAX_RESTARTS
    window: float = RESTART_WINDOW
    restarts: int = 0
    _deaths: dict[int, list[float]] = field(default_factory=dict)

    @classmethod
    def of(
        cls, environments: list[dict[str, str]], client: Client, stopping: asyncio.Event
    ) -> WorkerChildren:
        """Children for these environments (not started yet)."""
        children = [WorkerChild(index, env) for index, env in enumerate(environments)]
        return cls(children, client, stopping)

    @property
    def pids(self) -> list[int]:
        """The pids of the children now running."""
        return [child.pid for child in self.children if child.pid and child.exit_code is None]

    def start(self) -> None:
        """Start every child."""
        for child in self.children:
            child.start()

    async def run(self) -> None:
        """Watch the children; return once ``up`` is stopping, or raise why it must stop.

        Raises:
            WorkerStoppedError: A child died more than ``max_restarts`` times within ``window``.
        """
        loop = asyncio.get_running_loop()
        while not self.stopping.is_set():
            for child in self.children:
                code = child.exit_code
                if code is None:
                    continue
                if self.stopping.is_set():  # a Ctrl-C reached the child first
                    return
                died = loop.time()
                deaths = [at for at in self._deaths.get(child.index, []) if died - at < self.window]
                self._deaths[child.index] = deaths = [*deaths, died]
                if len(deaths) > self.max_restarts:
                    raise WorkerStoppedError(
                        f"worker process {child.index + 1} died {len(deaths)} times within "
                        f"{self.window:.0f}s (last exit status {code}); giving up"
                    )
                log.warning(
                    "worker process %d (pid %s) died (exit status %s); restarting it",
                    child.index + 1,
                    child.pid,
                    code,
                )
                await self._temporal_answers()
                if self.stopping.is_set():
                    return
                child.start()
                self.restarts += 1
            await asyncio.sleep(EXIT_POLL)

    async def _temporal_answers(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TEMPORAL_PATIENCE
        while loop.time() < deadline and not self.stopping.is_set():
            try:
                if await self.client.service_client.check_health(timeout=timedelta(seconds=2)):
                    return
            except Exception:  # down or restarting: the dev server's supervisor sees to it
                pass
            await asyncio.sleep(0.5)

    async def stop(self, *, patience: float = DRAIN_PATIENCE) -> None:
        """Drain the children (SIGTERM), SIGKILL those still there after ``patience``, reap all."""
        for child in self.children:
            child.send(signal.SIGTERM)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + patience
        while self.pids and loop.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(EXIT_POLL)
        for child in self.children:
            if child.exit_code is None:
                log.warning("worker process %d did not drain in time; killing it", child.index + 1)
                child.send(signal.SIGKILL)
        await self._reap()
        for child in self.children:
            if child.exit_code not in (None, 0, -signal.SIGKILL):
                log.warning(
                    "worker process %d stopped with exit status %s",
                    child.index + 1,
                    child.exit_code,
                )

    async def kill(self) -> None:
        """SIGKILL every child and reap it (``up`` is failing: there is nothing to drain to)."""
        for child in self.children:
            child.send(signal.SIGKILL)
        await self._reap()

    async def _reap(self) -> None:
        while self.pids:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
