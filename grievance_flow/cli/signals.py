"""Turn SIGINT/SIGTERM into an event, so every command shuts down in order and exits 0."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Generator
from contextlib import contextmanager

import uvicorn


def stop_on_signals() -> asyncio.Event:
    """An event set by the first SIGINT or SIGTERM (call inside the running loop)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


class QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signals to us.

    Plain uvicorn re-raises the signal it caught after shutting down, which
    would end the process with a signal status instead of exit 0, and before
    the worker and the dev server have been stopped.
    """

    @contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """Install nothing; :func:`stop_on_signals` owns SIGINT and SIGTERM."""
        yield


async def serve_until(server: QuietServer, stop: asyncio.Event) -> None:
    """Run ``server`` until ``stop`` is set or the server ends on its own."""
    serving = asyncio.create_task(server.serve())
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    stopping.cancel()
    await serving
    if server.started is False and not stop.is_set():
        raise RuntimeError(f"the API could not start on {server.config.host}:{server.config.port}")
