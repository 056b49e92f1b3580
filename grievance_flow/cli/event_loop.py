"""The event loop a long-running command runs on: uvloop where it is installed.

The API and the workers spend much of their time in the loop itself (waking
for a finished activity thread, reading and writing sockets); uvloop does that
part in C. Measured with ``benchmarks/lifecycle.py`` (README, "Performance").
Short commands (audit, keys) keep the standard loop: they would gain nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's ``new_event_loop`` if uvloop is installed, else None (asyncio's own)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux and macOS
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on the loop :func:`loop_factory` gives."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
