"""Keep ``grievance up``'s dev server alive: restart it when it dies, give up loudly.

The dev server is a child process; it can die on its own (a crash, the OOM
killer, a stray ``kill -9``) or hang alive (then it is killed and restarted).
Without a supervisor ``up`` would keep serving 503 for ever. Restarted on the
same ports and the same ``temporal.db``, it carries on every case: the
process's one Temporal client reconnects by itself and the worker's pollers
resume (both verified by ``tests/cli/test_up_supervision.py``).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio.client import Client

from grievance_flow.cli.devserver import DevServer, DevServerError

log = logging.getLogger(__name__)

MAX_RESTARTS = 3
"""Restarts allowed within :data:`RESTART_WINDOW`; one more death and ``up`` gives up."""

RESTART_WINDOW = 60.0
"""Seconds over which restarts are counted."""

READY_PATIENCE = 10.0
"""Seconds a restarted server has to answer; it starts in 1-3 s on the reference machine,
and ``up`` must recover or give up within 15 s of a death."""


HANG_PATIENCE = 6.0
"""Seconds a live dev server may fail every health check before it counts as hung."""

PROBE_INTERVAL = 1.0
"""Seconds between health checks of a live dev server."""

EXIT_POLL = 0.25
"""Seconds between looks at whether the dev server process has exited."""


@dataclass
class DevServerSupervisor:
    """Restarts ``server`` whenever it dies, until it dies too often or will not come back.

    Attributes:
        server: The running dev server.
        client: The process's client, used to see the restarted server answer.
        restart_seconds: How long each restart took, death to healthy, in order.
    """

    server: DevServer
    client: Client
    max_restarts: int = MAX_RESTARTS
    window: float = RESTART_WINDOW
    ready_patience: float = READY_PATIENCE
    hang_patience: float = HANG_PATIENCE
    restart_seconds: list[float] = field(default_factory=list)
    _deaths: list[float] = field(default_factory=list)

    async def run(self) -> None:
        """Watch the server for ever; return only by raising why it gave up.

        Raises:
            DevServerError: The server died more than ``max_restarts`` times within
                ``window`` seconds, or a restart failed or did not answer in time.
        """
        loop = asyncio.get_running_loop()
        while True:
            code = await self._until_gone()
            died = loop.time()
            self._deaths = [at for at in self._deaths if died - at < self.window] + [died]
            if len(self._deaths) > self.max_restarts:
                raise DevServerError(
                    f"the Temporal dev server died {len(self._deaths)} times within "
                    f"{self.window:.0f}s (last exit status {code}); giving up. "
                    f"See {self.server.log_path}"
                )
            log.warning(
                "the Temporal dev server died (exit status %s); restarting it on %s",
                code,
                self.server.data_dir,
            )
            try:
                self.server.start()
                await self.server.wait_ready(self.client, patience=self.ready_patience)
            except DevServerError as exc:
                raise DevServerError(
                    f"the Temporal dev server died (exit status {code}) and could not be "
                    f"restarted: {exc}"
                ) from exc
            self.restart_seconds.append(loop.time() - died)
            log.warning(
                "the Temporal dev server is back (pid %s) after %.1fs",
                self.server.pid,
                self.restart_seconds[-1],
            )

    async def _until_gone(self) -> int:
        """Wait until the server exits, or hangs (then kill it); return its exit status."""
        loop = asyncio.get_running_loop()
        answered = next_probe = loop.time()
        while (code := self.server.exit_code) is None:
            now = loop.time()
            if now >= next_probe:
                next_probe = now + PROBE_INTERVAL
                if await self._answers():
                    answered = loop.time()
                elif loop.time() - answered > self.hang_patience:
                    log.warning(
                        "the Temporal dev server (pid %s) has not answered for %.0fs; killing it",
                        self.server.pid,
                        self.hang_patience,
                    )
                    self.server.kill()
                    return await self.server.wait_exit()
            await asyncio.sleep(EXIT_POLL)
        return code

    async def _answers(self) -> bool:
        try:
            return await self.client.service_client.check_health(
                timeout=timedelta(seconds=PROBE_INTERVAL * 2)
            )
        except Exception:  # unreachable, timed out: not answering, whatever the cause
            return False
