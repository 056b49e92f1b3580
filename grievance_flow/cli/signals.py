"""Turn SIGINT/SIGTERM into an event, so every command shuts down in order and exits 0."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Awaitable, Generator, Iterable
from contextlib import contextmanager

import uvicorn

from grievance_flow.heap import freeze_start_up


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

    With ``freeze_heap`` (a process's own API, not a test's), the heap is frozen
    once the server has started (:func:`grievance_flow.heap.freeze_start_up`):
    the application, its lifespan's resources and, in ``grievance up --workers
    0``, the worker started before it are built by then.
    """

    def __init__(self, config: uvicorn.Config, *, freeze_heap: bool = False) -> None:
        super().__init__(config)
        self._freeze_heap = freeze_heap

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Start as uvicorn does; then, once started, freeze the start-up heap if asked to."""
        await super().startup(sockets)
        if self._freeze_heap and self.started:
            freeze_start_up()

    @contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """Install nothing; :func:`stop_on_signals` owns SIGINT and SIGTERM."""
        yield


class ApiStartError(RuntimeError):
    """The API could not start (its port was taken between the check and the bind)."""


async def serve_until(
    server: QuietServer, stop: asyncio.Event, *, watch: Iterable[Awaitable[object]] = ()
) -> None:
    """Run ``server`` until ``stop`` is set, the server ends, or a watched awaitable ends.

    A watched awaitable stands for another part of the process (the worker, the
    dev server's supervisor) and ends only when that part died, raising why:
    the server is shut down first, then that error is re-raised, so a process
    never keeps answering for a half that is gone.

    Raises:
        ApiStartError: The server could not start.
    """
    serving = asyncio.create_task(_serve(server))
    stopping = asyncio.create_task(stop.wait())
    watchers = [asyncio.ensure_future(awaitable) for awaitable in watch]
    try:
        await asyncio.wait({serving, stopping, *watchers}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        server.should_exit = True
        stopping.cancel()
        for watcher in watchers:
            watcher.cancel()
        await serving
    for watcher in watchers:
        if watcher.done() and not watcher.cancelled():
            watcher.result()  # re-raises the reason the watched part died
    if server.started is False and not stop.is_set():
        raise ApiStartError(f"the API could not start on {server.config.host}:{server.config.port}")


async def _serve(server: QuietServer) -> None:
    # uvicorn exits on a failed start (the port taken after our check);
    # serve_until reports it as ApiStartError rather than a traceback.
    with contextlib.suppress(SystemExit):
        await server.serve()
