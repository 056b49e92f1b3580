"""Keep the start-up heap out of the garbage collector's full passes.

A worker or API process holds some 175,000 objects tracked by the collector
once it has started (temporalio, SQLAlchemy, FastAPI and pydantic, the
catalogue and classifier, the calendar); the cases it runs add a few tens of
thousands. A full (generation 2) collection walks all of them while holding
the GIL, and nothing else in the process runs meanwhile: profiled under the
open-loop benchmark at 20 calls/s (``benchmarks/open_loop.py``), the worker's
full collections took 110-230 ms each, and every filing whose workflow task
was open during one waited for all of it. Those few filings were the file p99.

The start-up objects live as long as the process: collecting them can never
free anything. :func:`freeze_start_up` collects once and then moves every
surviving object to the collector's permanent generation
(:func:`gc.freeze`), so later collections walk only what the process made
since. Called once a process is ready to serve, never in library code: a test
process that froze would keep every later cycle reachable from its frozen
objects, e.g. a case cached in a fixture's worker, for the whole session.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)


def freeze_start_up() -> int:
    """Collect, then exempt every object alive now from later collections.

    Returns:
        How many objects are frozen in all (:func:`gc.get_freeze_count`).
    """
    # Collected first, so start-up garbage (import-time cycles) is freed rather
    # than kept for ever in the permanent generation.
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.info("start-up heap frozen: %d objects left out of garbage collection", frozen)
    return frozen
