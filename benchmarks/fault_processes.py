"""The processes the fault suite runs and kills: ``grievance up``, its dev server, a worker, an API.

Every process keeps its ports and data dir across restarts, so clients (the
driver's HTTP client, the extra worker's Temporal client) only see an outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from benchmarks.embedded import grievance_command, port_is_free, up_command

# Settings a shell may carry that would point the commands elsewhere.
_SETTINGS = ("TEMPORAL_ADDRESS", "DATABASE_URL", "GRIEVANCE_DATA_DIR", "GRIEVANCE_TASK_QUEUE")


RESTARTED = "the Temporal dev server is back"
"""What ``up``'s supervisor logs once a restarted dev server answers."""


def _env(**extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in _SETTINGS}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(child) for child in (task / "children").read_text().split()]
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@dataclass
class Up:
    """``grievance up`` on a fixed data dir and fixed ports, restartable."""

    data_dir: Path
    api_port: int
    temporal_port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None
    exits: list[int] = field(default_factory=list)
    """Exit codes of earlier runs that ended on their own (gave up) or were killed."""
    settings: dict[str, str] = field(default_factory=dict)
    """Environment settings for ``up`` (``DATABASE_URL``, say); none by default."""

    @property
    def api_url(self) -> str:
        """Base URL of the API."""
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def temporal_address(self) -> str:
        """The dev server's frontend."""
        return f"127.0.0.1:{self.temporal_port}"

    def start(self) -> None:
        """Start ``up`` (its output appended to the log), in its own process group."""
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                up_command(self.data_dir, api_port=self.api_port, temporal_port=self.temporal_port),
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=_env(**self.settings),
                start_new_session=True,
            )

    def alive(self) -> bool:
        """Whether the current ``up`` process runs."""
        return self.process is not None and self.process.poll() is None

    def dev_server_pid(self) -> int | None:
        """The dev server child of the running ``up``, if there is one."""
        if not self.alive():
            return None
        assert self.process is not None
        servers = [pid for pid in _children(self.process.pid) if "start-dev" in _cmdline(pid)]
        return servers[0] if servers else None

    async def healthy(self, http: httpx.AsyncClient) -> bool:
        """Whether ``/healthz`` answers 200 now."""
        try:
            return (await http.get(f"{self.api_url}/healthz", timeout=5)).status_code == 200
        except httpx.HTTPError:
            return False

    async def wait_healthy(self, http: httpx.AsyncClient, *, patience: float = 120) -> None:
        """Wait until ``/healthz`` answers 200; restart ``up`` if it exited meanwhile."""
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            if not self.alive():
                await self.restart()
            elif await self.healthy(http):
                return
            await asyncio.sleep(0.2)
        raise SystemExit(f"grievance up did not become healthy in {patience:.0f}s; see {self.log}")

    async def restart(self) -> None:
        """Start ``up`` again once the last one (and its dev server) released the ports."""
        if self.process is not None:
            self.exits.append(self.process.wait())
        deadline = time.monotonic() + 60
        ports = (self.api_port, self.temporal_port, self.temporal_port + 1000)
        # The killed up's dev server stops on its parent-death signal, in its own time.
        while not all(port_is_free(port) for port in ports) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        self.start()

    def kill(self) -> None:
        """SIGKILL ``up`` itself (its dev server follows through its parent-death signal)."""
        assert self.process is not None
        self.process.kill()

    def restarts_logged(self) -> int:
        """How many dev server restarts ``up`` has logged so far (all runs)."""
        try:
            return self.log.read_text("utf-8", errors="replace").count(RESTARTED)
        except OSError:
            return 0

    def kill_dev_server(self) -> int:
        """SIGKILL the dev server alone; returns its pid."""
        pid = self.dev_server_pid()
        if pid is None:
            raise RuntimeError("no dev server to kill")
        os.kill(pid, signal.SIGKILL)
        return pid

    def stop(self) -> int | None:
        """SIGTERM ``up``, wait, and return its exit code; SIGKILL the group if it hangs."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        return self.process.returncode


class _Child:
    """A child process of the suite's own, killed or stopped on demand."""

    process: subprocess.Popen[bytes] | None

    def kill(self) -> None:
        """SIGKILL the process."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        """SIGTERM the process and wait (SIGKILL after 60 s)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class ExtraWorker(_Child):
    """A ``grievance worker`` beside ``up``, on up's dev server and read model."""

    temporal_address: str
    data_dir: Path
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the worker (output appended to its log)."""
        env = _env(
            TEMPORAL_ADDRESS=self.temporal_address,
            DATABASE_URL=f"sqlite:///{(self.data_dir / 'readmodel.db').resolve()}",
            # up's codec ring, audit key and archive: this process must read and
            # write what up's do.
            GRIEVANCE_CODEC_KEYS=str((self.data_dir / "codec-keys.json").resolve()),
            GRIEVANCE_AUDIT_KEY=str((self.data_dir / "audit-key.pem").resolve()),
            GRIEVANCE_ARCHIVE_DIR=str((self.data_dir / "archive").resolve()),
        )
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                grievance_command("worker"),
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )

    def polling_count(self) -> int:
        """How many times a worker logged that it polls (one per successful start)."""
        try:
            return self.log.read_text("utf-8", errors="replace").count("worker polling")
        except OSError:
            return 0

    async def ensure_running(self) -> None:
        """Restart the worker if it exited (it does when Temporal was down as it started)."""
        if self.process is None or self.process.poll() is not None:
            self.start()

    async def wait_polling(self, before: int, *, patience: float = 60) -> None:
        """Wait until the worker logged one more start than ``before``; respawn on exit."""
        deadline = time.monotonic() + patience
        while self.polling_count() <= before and time.monotonic() < deadline:
            await self.ensure_running()
            await asyncio.sleep(0.1)


@dataclass
class ExtraApi(_Child):
    """A ``grievance api`` beside ``up``'s own, on up's dev server and read model."""

    temporal_address: str
    data_dir: Path
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def api_url(self) -> str:
        """Base URL of this API."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the API (output appended to its log)."""
        env = _env(
            TEMPORAL_ADDRESS=self.temporal_address,
            DATABASE_URL=f"sqlite:///{(self.data_dir / 'readmodel.db').resolve()}",
            # up's codec ring, audit key and archive: this process must read and
            # write what up's do.
            GRIEVANCE_CODEC_KEYS=str((self.data_dir / "codec-keys.json").resolve()),
            GRIEVANCE_AUDIT_KEY=str((self.data_dir / "audit-key.pem").resolve()),
            GRIEVANCE_ARCHIVE_DIR=str((self.data_dir / "archive").resolve()),
        )
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                grievance_command("api", "--port", str(self.port)),
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )

    async def wait_healthy(self, http: httpx.AsyncClient, *, patience: float = 60) -> None:
        """Wait until ``/healthz`` answers; start the API again if it exited meanwhile."""
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                self.start()
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"{self.api_url}/healthz", timeout=5)).status_code == 200:
                    return
            await asyncio.sleep(0.2)
        raise SystemExit(f"grievance api did not become healthy in {patience:.0f}s; see {self.log}")


class RoundRobin(httpx.AsyncBaseTransport):
    """Sends each request to the next API port in turn, as a load balancer would.

    Like one (nginx's ``proxy_next_upstream error``), it passes a request that
    could not even connect on to the next API: nothing was sent, so that is
    always safe. A request cut off mid-way (its API killed) is not retried
    here; the client retries it, with the same ``Idempotency-Key``.

    Attributes:
        refused: Connections refused so far (an API was down).
    """

    def __init__(self, ports: list[int]) -> None:
        self._ports = ports
        self._turn = itertools.count()
        self._transport = httpx.AsyncHTTPTransport()
        self.refused = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Forward ``request`` to the next port, or the one after while it refuses."""
        first = next(self._turn)
        for attempt in range(len(self._ports)):
            port = self._ports[(first + attempt) % len(self._ports)]
            request.url = request.url.copy_with(port=port)
            try:
                return await self._transport.handle_async_request(request)
            except httpx.ConnectError:
                self.refused += 1
                if attempt == len(self._ports) - 1:
                    raise
        raise AssertionError("no ports to send to")

    async def aclose(self) -> None:
        """Close the connections."""
        await self._transport.aclose()
