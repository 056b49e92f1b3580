"""Run the real ``grievance`` console script as subprocesses, and always clean them up.

Every long-running command is started in its own session (process group), with
its output in files under the test's tmp dir. The ``processes`` fixture stops
whatever is still running when the test ends, pass or fail: SIGTERM, a wait,
then SIGKILL to the whole group (which also reaches a dev server child).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

GRIEVANCE = Path(sys.executable).parent / "grievance"
"""The installed console script, next to the interpreter running the tests."""

STOP_PATIENCE = 30.0
"""How long a command may take to stop after SIGTERM/SIGINT before it counts as hung."""

# Settings a developer's shell may carry that would point the commands elsewhere.
_SETTINGS_VARIABLES = (
    "TEMPORAL_ADDRESS",
    "TEMPORAL_NAMESPACE",
    "TEMPORAL_TLS_CERT",
    "TEMPORAL_TLS_KEY",
    "TEMPORAL_TLS_CA",
    "TEMPORAL_API_KEY",
    "GRIEVANCE_TASK_QUEUE",
    "DATABASE_URL",
    "CATALOGUE",
    "CALENDAR_OVERRIDES",
    "GRIEVANCE_DATA_DIR",
    "NOTICE_WEBHOOK_URL",
    "NOTICE_WEBHOOK_TIMEOUT",
    "GRIEVANCE_METRICS_PORT",
    "GRIEVANCE_METRICS_HOST",
    "GRIEVANCE_LOG_FORMAT",
)


def command_env(**settings: str) -> dict[str, str]:
    """This process's environment without grievance settings, plus ``settings``."""
    env = {name: value for name, value in os.environ.items() if name not in _SETTINGS_VARIABLES}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(settings)
    return env


# ---------------------------------------------------------------- ports

_handed_out: set[int] = set()


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port nothing listens on now, never handed out before in this session."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port: int = probe.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def free_temporal_port() -> int:
    """A free port ``T`` whose ``T + 1000`` (the dev server's Web UI) is free too."""
    for _ in range(200):
        port = free_port()
        ui_port = port + 1000
        if ui_port <= 65535 and ui_port not in _handed_out and _port_is_free(ui_port):
            _handed_out.add(ui_port)
            return port
    raise RuntimeError("found no free port T with T + 1000 free as well")


# ---------------------------------------------------------------- /proc


def processes_mentioning(text: str) -> list[str]:
    """``pid: command line`` of every live process whose command line contains ``text``."""
    needle = text.encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:  # it ended while we looked
            continue
        if needle in cmdline:
            readable = cmdline.replace(b"\0", b" ").decode(errors="replace")
            found.append(f"{entry.name}: {readable}")
    return found


# ---------------------------------------------------------------- commands


@dataclass
class Command:
    """One ``grievance`` subprocess and the files its output goes to."""

    name: str
    process: asyncio.subprocess.Process
    stdout_path: Path
    stderr_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    def stdout(self) -> str:
        return self.stdout_path.read_text("utf-8", errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text("utf-8", errors="replace")

    def send(self, sig: signal.Signals) -> None:
        """Signal the command itself (not its group), as a terminal or supervisor would."""
        self.process.send_signal(sig)

    async def wait(self, patience: float = STOP_PATIENCE) -> int:
        """Wait for the exit and return the code; fail the test if it takes longer."""
        try:
            return await asyncio.wait_for(self.process.wait(), patience)
        except TimeoutError:
            pytest.fail(
                f"'{self.name}' did not exit within {patience:.0f}s\n"
                f"--- stderr ---\n{self.stderr()[-4000:]}"
            )

    def describe(self) -> str:
        """Exit code and output, for assertion messages."""
        return (
            f"'{self.name}' exit {self.returncode}\n"
            f"--- stdout ---\n{self.stdout()[-4000:]}\n--- stderr ---\n{self.stderr()[-4000:]}"
        )


def _output_files(log_dir: Path, index: int, name: str) -> tuple[Path, Path]:
    log_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{index:02d}-{name.replace(' ', '_')}"
    stdout_path, stderr_path = log_dir / f"{stem}.out", log_dir / f"{stem}.err"
    stdout_path.touch()
    stderr_path.touch()
    return stdout_path, stderr_path


class Processes:
    """Starts ``grievance`` commands and stops every one still running at the end."""

    def __init__(self, log_dir: Path, cwd: Path) -> None:
        self._log_dir = log_dir
        self._cwd = cwd
        self._started: list[Command] = []

    async def start(self, *args: str, env: dict[str, str] | None = None) -> Command:
        """Start ``grievance ARGS...`` in the test's tmp dir (so a stray ./data lands there)."""
        name = " ".join(args[:2])
        stdout_path, stderr_path = _output_files(self._log_dir, len(self._started), name)
        with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                str(GRIEVANCE),
                *args,
                cwd=self._cwd,
                env=env if env is not None else command_env(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
            )
        command = Command(name, process, stdout_path, stderr_path)
        self._started.append(command)
        return command

    async def run(self, *args: str, env: dict[str, str] | None = None) -> Command:
        """Run a short command to its end (within :data:`STOP_PATIENCE`)."""
        command = await self.start(*args, env=env)
        await command.wait()
        return command

    async def stop_all(self) -> None:
        """SIGTERM what still runs, wait, then SIGKILL its whole process group."""
        await asyncio.gather(*(_stop(command) for command in self._started))


async def _stop(command: Command) -> None:
    if command.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            command.process.terminate()
        try:
            await asyncio.wait_for(command.process.wait(), STOP_PATIENCE)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(command.pid, signal.SIGKILL)
            await command.process.wait()
    # Anything the command left behind in its group (a dev server) goes too.
    # The group id stays reserved while any member lives, so this cannot hit a stranger.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(command.pid, signal.SIGKILL)


@pytest.fixture
async def processes(tmp_path: Path) -> AsyncIterator[Processes]:
    """Start ``grievance`` commands; all are stopped when the test ends, however it ends."""
    started = Processes(tmp_path / "logs", cwd=tmp_path)
    try:
        yield started
    finally:
        await started.stop_all()


# ---------------------------------------------------------------- HTTP


async def wait_until_healthy(base_url: str, command: Command, *, patience: float = 60.0) -> None:
    """Poll ``/healthz`` until 200; fail early if ``command`` exits meanwhile."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    last = "no answer"
    async with httpx.AsyncClient(base_url=base_url, timeout=5.0) as http:
        while loop.time() < deadline:
            if command.returncode is not None:
                pytest.fail(f"exited before it was healthy: {command.describe()}")
            try:
                response = await http.get("/healthz")
            except httpx.TransportError as exc:
                last = repr(exc)
            else:
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text}"
            await asyncio.sleep(0.2)
    pytest.fail(f"{base_url}/healthz not 200 within {patience:.0f}s ({last})\n{command.describe()}")


def bearer(key: str) -> dict[str, str]:
    """Authorization headers for an API key."""
    return {"Authorization": f"Bearer {key}"}


def json_object(response: httpx.Response, status: int) -> dict[str, Any]:
    """The response's JSON object, after checking its status."""
    assert response.status_code == status, f"{response.status_code} {response.text}"
    body: dict[str, Any] = response.json()
    return body


def printed_key(command: Command) -> str:
    """The one key a successful ``keys create`` printed."""
    assert command.returncode == 0, command.describe()
    lines = command.stdout().splitlines()
    assert len(lines) == 1, command.describe()
    key = lines[0].strip()
    assert key.startswith("gf_"), command.describe()
    return key
