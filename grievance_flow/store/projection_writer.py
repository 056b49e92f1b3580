"""One thread per worker that writes every projection, many to a transaction.

The projection activity used to run on the worker's activity threads, one
transaction per projection. With many cases moving at once, those threads
queued on SQLite's single write lock (its busy handler sleeps between tries),
fought over the GIL, and woke the event loop once each. Here the activity only
queues its projection and awaits it; one thread takes whatever is queued,
writes it in one transaction and commits once, then resolves the batch's
activities with one wake-up of the loop. A batch that fails is written again
one projection per transaction, so a bad projection fails only its own
activity (which Temporal retries), never its neighbours'.

The rows are the same as :func:`grievance_flow.store.projection.project_case`
writes, with the same version checks, so a projection written here and one
written by a rebuild or another worker process agree.

The hand-over's in-process notice records go through the same thread
(:meth:`ProjectionWriter.run`). Written on a connection of their own, they
waited on the write lock this thread holds nearly all the time under load:
SQLite's busy handler sleeps and tries again, and a thread that commits and
begins again at once wins nearly every try, so a notice record could wait
seconds while its case's workflow task (and its slot) stayed open.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from sqlalchemy import Connection, Engine

from grievance_flow.store.projection import project_into
from grievance_flow.workflows.contracts import CaseView, Event

log = logging.getLogger(__name__)

MAX_BATCH = 64
"""Projections written in one transaction at most: bounds how long one commit holds the lock."""

IDLE_EXIT = 30.0
"""Seconds without work after which the thread ends; the next projection starts it again."""


Write = Callable[[Connection], None]
"""Statements to run inside the writer's transaction (and, on a batch failure, alone)."""


@dataclass
class _Projection:
    write: Write
    done: asyncio.Future[None]


class ProjectionWriterClosedError(RuntimeError):
    """A projection was handed to a writer that has been closed."""


class ProjectionWriter:
    """Writes projections handed over from the event loop, on a thread of its own.

    Hand projections over with :meth:`write` (from the event loop). The thread
    starts with the first and ends after :data:`IDLE_EXIT` seconds without
    any, so a writer nobody closes (a test's worker) leaves no thread behind;
    :meth:`close` writes what is queued and stops it at once.
    """

    def __init__(
        self, engine: Engine, *, max_batch: int = MAX_BATCH, idle_exit: float = IDLE_EXIT
    ) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._idle_exit = idle_exit
        self._queue: queue.SimpleQueue[_Projection | None] = queue.SimpleQueue()
        # Guards _thread: a projection is queued, and the thread decides to end,
        # under it, so nothing is queued for a thread that has just gone.
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def _hand_over(self, item: _Projection | None) -> None:
        with self._lock:
            self._queue.put(item)
            if self._thread is None and item is not None:
                self._thread = threading.Thread(
                    target=self._run, name="projection-writer", daemon=True
                )
                self._thread.start()

    async def write(self, case: CaseView, events: list[Event], *, version: int) -> None:
        """Write ``case`` and ``events`` (see ``project_case``); return once committed.

        Raises:
            ProjectionWriterClosedError: The writer was closed.
            Exception: Whatever writing this projection alone raised.
        """
        await self.run(partial(project_into, case=case, events=events, version=version))

    async def run(self, write: Write) -> None:
        """Run ``write`` on the writer's thread, in one transaction with others, until committed.

        ``write`` must be safe to run twice in a row on separate transactions
        (the first rolled back): a batch that fails is written again one by one.

        Raises:
            ProjectionWriterClosedError: The writer was closed.
            Exception: Whatever ``write`` raised, run alone.
        """
        if self._closed:
            raise ProjectionWriterClosedError("the projection writer is closed")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._hand_over(_Projection(write, done))
        await done

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the thread (waits up to ``timeout`` s)."""
        self._closed = True
        with self._lock:
            thread = self._thread
        if thread is not None:
            self._hand_over(None)
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=self._idle_exit)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            if first is None:
                with self._lock:
                    self._thread = None
                return
            batch = [first]
            stop = False
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._write(batch)
            if stop:
                with self._lock:
                    self._thread = None
                return

    def _write(self, batch: list[_Projection]) -> None:
        outcomes: list[tuple[_Projection, BaseException | None]]
        try:
            with self._engine.begin() as connection:
                for item in batch:
                    item.write(connection)
            outcomes = [(item, None) for item in batch]
        except Exception as batch_error:
            if len(batch) == 1:
                outcomes = [(batch[0], batch_error)]
            else:
                # One projection spoilt the transaction: write each on its own,
                # so only that one fails.
                outcomes = [(item, self._write_alone(item)) for item in batch]
        _resolve(outcomes)

    def _write_alone(self, item: _Projection) -> BaseException | None:
        try:
            with self._engine.begin() as connection:
                item.write(connection)
        except Exception as error:
            return error
        return None


def _resolve(outcomes: list[tuple[_Projection, BaseException | None]]) -> None:
    """Settle each projection's future on its own loop, one wake-up per loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Projection, BaseException | None]]] = {}
    for item, error in outcomes:
        by_loop.setdefault(item.done.get_loop(), []).append((item, error))
    for loop, settled in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, settled)
        except RuntimeError:
            # The loop is closed: the worker is gone, and nobody awaits these.
            log.debug("dropped %d projection results for a closed loop", len(settled))


def _settle(settled: list[tuple[_Projection, BaseException | None]]) -> None:
    for item, error in settled:
        if item.done.done():
            continue  # the activity was cancelled (timed out) meanwhile
        if error is None:
            item.done.set_result(None)
        else:
            item.done.set_exception(error)
