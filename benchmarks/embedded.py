"""Start and stop ``grievance up`` for a benchmark: free ports, a data dir, SIGTERM at the end."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    """A port nothing listens on now (``up`` checks the Temporal port's +1000 itself)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def free_temporal_port() -> int:
    """A free port ``T`` whose ``T + 1000`` (the dev server's Web UI) is free as well."""
    for _ in range(200):
        port = free_port()
        if port + 1000 <= 65535 and port_is_free(port + 1000):
            return port
    raise RuntimeError("found no free port T with T + 1000 free as well")


def port_is_free(port: int) -> bool:
    """Whether nothing listens on (or holds) ``127.0.0.1:port``."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def grievance_command(*args: str) -> list[str]:
    """``grievance ARGS...`` with the console script next to this interpreter."""
    return [str(Path(sys.executable).parent / "grievance"), *args]


def up_command(
    data_dir: Path,
    *,
    api_port: int,
    temporal_port: int,
    catalogue: Path | None = None,
    workers: int | None = None,
) -> list[str]:
    """The ``grievance up`` command line for ``data_dir`` and the given ports.

    ``workers``: ``--workers N``; None leaves up's default (one per spare core).
    """
    command = grievance_command(
        "up",
        "--data-dir",
        str(data_dir),
        "--port",
        str(api_port),
        "--temporal-port",
        str(temporal_port),
    )
    if catalogue is not None:
        command += ["--catalogue", str(catalogue)]
    if workers is not None:
        command += ["--workers", str(workers)]
    return command


@dataclass
class EmbeddedSystem:
    """A running ``grievance up``: its process, API address and data dir."""

    process: subprocess.Popen[bytes]
    api_url: str
    data_dir: Path
    launched: float

    @property
    def keys_file(self) -> Path:
        """``dev-keys.json`` of this system."""
        return self.data_dir / "dev-keys.json"


@contextmanager
def embedded_system(
    data_dir: Path,
    *,
    catalogue: Path | None = None,
    log: Path | None = None,
    workers: int | None = 0,
    env: dict[str, str] | None = None,
) -> Iterator[EmbeddedSystem]:
    """Run ``grievance up`` in ``data_dir`` until the block ends, then SIGTERM it.

    ``env`` adds to (or overrides) this process's environment for ``up``, e.g.
    ``GRIEVANCE_CODEC_KEYS=off`` for a system without payload encryption.

    Waits until ``dev-keys.json`` is written; prints the exit code at the end.
    ``workers`` is ``up --workers``: by default 0, the worker in up's own
    process, so that the figures stay comparable with earlier runs (clocks.py
    samples one RSS for API and worker); None gives up's default layout.
    """
    api_port, temporal_port = free_port(), free_port()
    command = up_command(
        data_dir,
        api_port=api_port,
        temporal_port=temporal_port,
        catalogue=catalogue,
        workers=workers,
    )
    launched = time.perf_counter()
    output = log.open("wb") if log is not None else subprocess.DEVNULL
    try:
        process = subprocess.Popen(
            command,
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
    finally:
        if log is not None and not isinstance(output, int):
            output.close()
    system = EmbeddedSystem(process, f"http://127.0.0.1:{api_port}", data_dir, launched)
    try:
        for _ in range(600):
            if system.keys_file.exists() or process.poll() is not None:
                break
            time.sleep(0.1)
        if process.poll() is not None:
            raise SystemExit(f"grievance up exited with {process.returncode}")
        yield system
    finally:
        stopping = time.perf_counter()
        process.send_signal(signal.SIGTERM)
        code = process.wait(120)
        print(
            f"grievance up exited with {code} after SIGTERM "
            f"({time.perf_counter() - stopping:.1f}s to stop)"
        )


def add_system_arguments(parser: argparse.ArgumentParser) -> None:
    """``--tmp-root`` and ``--workers``: where a benchmark's system runs, and its layout."""
    parser.add_argument(
        "--tmp-root", type=Path, default=None, help="where the data dir goes (e.g. /dev/shm)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="up --workers N (default: up's own, one worker process per spare core; "
        "0 runs the worker in up's process)",
    )
