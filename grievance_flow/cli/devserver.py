"""The embedded Temporal dev server that ``grievance up`` runs, persisted in the data dir."""

from __future__ import annotations

import asyncio
import ctypes
import logging
import signal
import socket
import subprocess
from datetime import timedelta
from pathlib import Path

from google.protobuf.duration_pb2 import Duration
from temporalio.api.namespace.v1 import NamespaceConfig
from temporalio.api.workflowservice.v1 import UpdateNamespaceRequest
from temporalio.client import Client

from grievance_flow.binaries import temporal_cli

log = logging.getLogger(__name__)

RETENTION = timedelta(days=3650)
"""Closed cases stay in Temporal's history this long, for audit (the dev default is a day)."""


class DevServerError(RuntimeError):
    """The dev server could not be started or did not become ready."""


def _die_with_parent() -> None:
    # Linux PR_SET_PDEATHSIG: if `grievance up` is killed outright (SIGKILL), the
    # kernel stops the dev server too, so no orphan keeps the port and database.
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM, 0, 0, 0)


def port_is_free(host: str, port: int) -> bool:
    """Whether nothing listens on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


class DevServer:
    """``temporal server start-dev`` with its SQLite database in ``data_dir``."""

    def __init__(self, data_dir: Path, *, port: int, ui_port: int) -> None:
        self.data_dir = data_dir
        self.port = port
        self.ui_port = ui_port
        self.address = f"127.0.0.1:{port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server process; its output goes to ``DIR/temporal.log``."""
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
        ]
        with (self.data_dir / "temporal.log").open("ab") as output:
            self._process = subprocess.Popen(
                command,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent,
            )

    async def connect(self, *, patience: float = 60.0) -> Client:
        """Wait until the frontend answers and return the process's client."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + patience
        last_error: Exception | None = None
        while loop.time() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise DevServerError(
                    f"the Temporal dev server exited with {self._process.returncode}; "
                    f"see {self.data_dir / 'temporal.log'}"
                )
            try:
                client = await Client.connect(self.address)
                await client.service_client.check_health()
                return client
            except Exception as exc:  # not up yet: retry until the deadline
                last_error = exc
                await asyncio.sleep(0.25)
        raise DevServerError(
            f"the Temporal dev server did not answer in {patience:.0f}s: {last_error}"
        )

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
