"""A real HTTP receiver for webhook tests: ``http.server`` on 127.0.0.1 in a thread."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

Answer = int | tuple[int, dict[str, str]]
"""A status, or a status and the headers to send with it (e.g. ``Retry-After``)."""


@dataclass
class Delivery:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: Any
    raw: bytes = b""
    """The body as sent, for checking a signature over it."""


class WebhookReceiver:
    """Answers each POST with the next of ``statuses`` (then 204), recording what came.

    Each answer is a status or ``(status, headers)``. Binds port 0, so the OS
    picks a free port; use as a context manager.
    """

    def __init__(self, statuses: Iterable[Answer] = (), *, delay: float = 0.0) -> None:
        self.deliveries: list[Delivery] = []
        self._statuses = list(statuses)
        self._delay = delay
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The URL to post notices to."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hooks/notices"

    def _answer(self, delivery: Delivery) -> tuple[int, dict[str, str]]:
        with self._lock:
            self.deliveries.append(delivery)
            answer = self._statuses.pop(0) if self._statuses else 204
        return answer if isinstance(answer, tuple) else (answer, {})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                body = json.loads(raw or b"null")
                status, headers = receiver._answer(
                    Delivery(path=self.path, headers=dict(self.headers.items()), body=body, raw=raw)
                )
                time.sleep(receiver._delay)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

        return Handler

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
