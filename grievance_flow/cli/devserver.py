"""The embedded Temporal dev server that ``grievance up`` runs, persisted in the data dir."""

from __future__ import annotations

import asyncio
import ctypes
import fcntl
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from google.protobuf.duration_pb2 import Duration
from temporalio.api.namespace.v1 import NamespaceConfig
from temporalio.api.workflowservice.v1 import UpdateNamespaceRequest
from temporalio.client import Client
from temporalio.converter import DataConverter

from grievance_flow.binaries import temporal_cli
from grievance_flow.payloads import DATA_CONVERTER
from grievance_flow.search_attribute_registration import dev_server_flags

log = logging.getLogger(__name__)

RETENTION = timedelta(days=3650)
"""Closed cases stay in Temporal's history this long, for audit (the dev default is a day)."""


class DevServerError(RuntimeError):
    """The dev server could not be started or did not become ready."""


def _die_with_parent() -> None:
    # Linux PR_SET_PDEATHSIG: if `grievance up` is killed outright (SIGKILL), the
    # kernel stops the dev server too, so no orphan keeps the port and database.
    # SIGKILL, not SIGTERM: a graceful stop of the dev server takes ~10 s of
    # retrying its own dead peers, all that time holding temporal.db and delaying
    # the next `up`; and a killed dev server loses nothing it acknowledged (the
    # fault suite, benchmarks/faults.py, kills it -9 on purpose).
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)


def port_is_free(host: str, port: int) -> bool:
    """Whether nothing listens on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


CLAIM_PATIENCE = 15.0
"""Seconds ``up`` waits for an earlier ``up`` or dev server on the same data dir to be gone."""


def _claim_data_dir(data_dir: Path, *, patience: float = CLAIM_PATIENCE) -> int:
    """Take the data dir's exclusive lock (``DIR/up.lock``); return its file descriptor.

    The dev server inherits the lock, so it is held until both ``up`` and its
    server are gone: two ``up`` on one data dir (on different ports) never share
    ``temporal.db``, and an ``up`` started while the last one's server is still
    going away (it is killed with ``up``, but not in no time) waits for it
    rather than failing on a busy port or a locked database.

    Raises:
        DevServerError: The lock stayed taken for ``patience`` seconds.
    """
    fd = os.open(data_dir / "up.lock", os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + patience
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                raise DevServerError(
                    f"another 'grievance up' (or its Temporal dev server) still uses "
                    f"{data_dir}; stop it first"
                ) from None
            # Only before anything else runs in this process: blocking is fine.
            time.sleep(0.1)


class DevServer:
    """``temporal server start-dev`` with its SQLite database in ``data_dir``."""

    def __init__(
        self, data_dir: Path, *, port: int, ui_port: int, ui_codec_endpoint: str | None = None
    ) -> None:
        self.data_dir = data_dir
        self.port = port
        self.ui_port = ui_port
        self.ui_codec_endpoint = ui_codec_endpoint
        """Where the Web UI sends payloads to be decoded (``up``'s ``/codec``), or None."""
        self.address = f"127.0.0.1:{port}"
        self.log_path = data_dir / "temporal.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0
        self._lock: int | None = None

    def start(self) -> None:
        """Start the server process; its output goes to ``DIR/temporal.log``.

        Called again after the process died, it starts a new one on the same
        ports and the same ``temporal.db`` (see :mod:`grievance_flow.cli.supervision`).
        Call it from the event loop's thread: the parent-death signal that stops
        the server with ``up`` is tied to the thread that started it.

        Raises:
            DevServerError: Another dev server still uses the data dir, or a port is taken.
        """
        if self._lock is None:
            self._lock = _claim_data_dir(self.data_dir)
        for port in (self.port, self.ui_port):
            if not port_is_free("127.0.0.1", port):
                raise DevServerError(
                    f"port {port} is already in use (another 'grievance up'?); "
                    "choose another with --temporal-port"
                )
        command = [
            str(temporal_cli()),
            "server",
            "start-dev",
            "--db-filename",
            str(self.data_dir / "temporal.db"),
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--ui-port",
            str(self.ui_port),
            "--log-level",
            "warn",
            # SPEC §8's search attributes, which every case upserts; on a data dir
            # that has them already (any later `up`) the server keeps them as they are.
            *dev_server_flags(),
            *(["--ui-codec-endpoint", self.ui_codec_endpoint] if self.ui_codec_endpoint else []),
        ]
        with self.log_path.open("ab") as output:
            self._log_offset = output.tell()
            self._process = subprocess.Popen(
                command,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                # The server inherits the data dir's lock: it stays held until
                # both `up` and this process are gone.
                pass_fds=(self._lock,),
                preexec_fn=_die_with_parent,
            )

    @property
    def pid(self) -> int | None:
        """The server process's id, once started."""
        return self._process.pid if self._process is not None else None

    @property
    def exit_code(self) -> int | None:
        """The server process's exit status (negative: killed by that signal), or None."""
        return self._process.poll() if self._process is not None else None

    async def wait_exit(self, *, poll_interval: float = 0.25) -> int:
        """Wait until the server process ends, however it ends; return its exit status."""
        # Popen offers no awaitable exit; asyncio's own child watchers would take
        # over SIGCHLD for the whole process. A quarter second is soon enough.
        while (code := self.exit_code) is None:  # noqa: ASYNC110
            await asyncio.sleep(poll_interval)
        return code

    async def connect(
        self, *, patience: float = 60.0, data_converter: DataConverter = DATA_CONVERTER
    ) -> Client:
        """Wait until the frontend answers and return the process's client."""
        client: Client | None = None

        async def answers() -> None:
            nonlocal client
            client = await Client.connect(self.address, data_converter=data_converter)
            if not await client.service_client.check_health():
                raise DevServerError("the frontend is not serving yet")

        await self._wait_until(answers, patience)
        assert client is not None
        return client

    async def wait_ready(self, client: Client, *, patience: float) -> None:
        """Wait until the (restarted) frontend answers ``client``'s health check.

        Raises:
            DevServerError: The process exited, or did not answer within ``patience``.
        """

        async def answers() -> None:
            if not await client.service_client.check_health(timeout=timedelta(seconds=2)):
                raise DevServerError("the frontend is not serving yet")

        await self._wait_until(answers, patience)

    async def _wait_until(self, answers: Callable[[], Awaitable[None]], patience: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + patience
        last_error: Exception | None = None
        while loop.time() < deadline:
            if (code := self.exit_code) is not None:
                raise DevServerError(
                    f"the Temporal dev server exited with {code}{self._last_words()}; "
                    f"see {self.log_path}"
                )
            try:
                await answers()
                return
            except Exception as exc:  # not up yet: retry until the deadline
                last_error = exc
                await asyncio.sleep(0.25)
        raise DevServerError(
            f"the Temporal dev server did not answer in {patience:.0f}s: {last_error}"
        )

    def _last_words(self) -> str:
        """The last line the server wrote since it was started, as ``: line`` (or nothing)."""
        try:
            with self.log_path.open("rb") as output:
                output.seek(self._log_offset)
                lines = output.read()[-2000:].decode(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return f": {lines[-1].strip()[:300]}" if lines else ""

    async def keep_histories(self, client: Client) -> None:
        """Raise the namespace's retention so closed cases remain auditable."""
        try:
            await client.workflow_service.update_namespace(
                UpdateNamespaceRequest(
                    namespace=client.namespace,
                    config=NamespaceConfig(
                        workflow_execution_retention_ttl=Duration(
                            seconds=int(RETENTION.total_seconds())
                        )
                    ),
                )
            )
        except Exception as exc:  # the cases still run; only retention stays short
            log.warning("could not extend history retention: %s", exc)

    def kill(self) -> None:
        """SIGKILL the server process (one that stopped answering); :meth:`wait_exit` reaps it."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()

    def stop(self, *, timeout: float = 20.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL after ``timeout``) and reap it."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
