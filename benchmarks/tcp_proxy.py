"""A TCP proxy that can be cut: a database outage on demand, for tests and benchmarks.

Put it in front of PostgreSQL and point the read model at it. :meth:`CuttableProxy.cut`
aborts every open connection (both sides get a reset at once, so no client
is left waiting on a half-open socket) and closes each new one as soon as it
is accepted; :meth:`CuttableProxy.restore` forwards again.

It runs its own event loop on a thread of its own, so a caller that blocks its
loop (a synchronous query through the proxy, say) cannot stall the proxy too,
and ``cut``/``restore`` may be called from any thread, async code or not.

    with CuttableProxy("127.0.0.1", 5432) as proxy:
        engine = make_engine(f"postgresql://postgres@127.0.0.1:{proxy.port}/test")
        proxy.cut()
        ...
        proxy.restore()
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from concurrent.futures import Future
from types import TracebackType
from typing import Any, Self

CHUNK = 64 * 1024
CONNECT_PATIENCE = 5.0
"""Seconds the proxy waits for the upstream to accept before it drops the client."""


class CuttableProxy:
    """Forwards ``127.0.0.1:<port>`` to ``upstream_host:upstream_port`` until cut."""

    def __init__(self, upstream_host: str, upstream_port: int, *, port: int = 0) -> None:
        """Prepare a proxy; :meth:`start` (or ``with``) opens it.

        Args:
            upstream_host: Where connections go.
            upstream_port: The upstream's port.
            port: The port to listen on; 0 picks a free one (see :attr:`port`).
        """
        self._upstream = (upstream_host, upstream_port)
        self._requested_port = port
        self._port: int | None = None
        self._open = True
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="proxy")
        self._server: asyncio.Server | None = None
        # Every live connection's two transports, so cut() can abort them all.
        self._links: set[tuple[asyncio.Transport, asyncio.Transport | None]] = set()
        self.accepted = 0
        """Connections accepted so far (forwarded or, while cut, closed at once)."""
        self.refused = 0
        """Connections closed at once because the proxy was cut."""

    @property
    def port(self) -> int:
        """The port the proxy listens on."""
        if self._port is None:
            raise RuntimeError("the proxy is not started")
        return self._port

    @property
    def is_cut(self) -> bool:
        """Whether the proxy refuses connections now."""
        return not self._open

    def start(self) -> None:
        """Start listening (on the proxy's own thread)."""
        self._thread.start()
        self._call(self._listen())

    def cut(self) -> None:
        """Abort every open connection and close new ones at once, until :meth:`restore`."""
        self._call(self._cut())

    def restore(self) -> None:
        """Forward new connections again."""
        self._call(self._restore())

    def close(self) -> None:
        """Stop listening, abort every connection and stop the proxy's thread."""
        if not self._thread.is_alive():
            return
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- on the proxy's loop ----------------------------------------------------------

    def _call(self, coroutine: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(timeout=30)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, "127.0.0.1", self._requested_port, reuse_address=True
        )
        self._port = self._server.sockets[0].getsockname()[1]

    async def _cut(self) -> None:
        self._open = False
        for link in list(self._links):
            _abort(link)
        self._links.clear()

    async def _restore(self) -> None:
        self._open = True

    async def _shutdown(self) -> None:
        await self._cut()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        client = _transport(writer)
        if not self._open:
            self.refused += 1
            client.abort()
            return
        link: tuple[asyncio.Transport, asyncio.Transport | None] = (client, None)
        self._links.add(link)
        try:
            upstream_reader, upstream_writer = await asyncio.wait_for(
                asyncio.open_connection(*self._upstream), CONNECT_PATIENCE
            )
        except (OSError, TimeoutError):
            self._links.discard(link)
            client.abort()
            return
        self._links.discard(link)
        if not self._open:  # cut while we connected
            client.abort()
            _transport(upstream_writer).abort()
            return
        link = (client, _transport(upstream_writer))
        self._links.add(link)
        try:
            await asyncio.gather(_pump(reader, upstream_writer), _pump(upstream_reader, writer))
        finally:
            self._links.discard(link)
            _abort(link)


def _transport(writer: asyncio.StreamWriter) -> asyncio.Transport:
    transport = writer.transport
    assert isinstance(transport, asyncio.Transport)
    return transport


def _abort(link: tuple[asyncio.Transport, asyncio.Transport | None]) -> None:
    for transport in link:
        if transport is not None and not transport.is_closing():
            transport.abort()


async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    """Copy ``source`` to ``sink`` until either side ends; then end the other as well."""
    try:
        while data := await source.read(CHUNK):
            sink.write(data)
            await sink.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        # One side gone: take the other down too, so neither waits for ever.
        _transport(sink).abort()
