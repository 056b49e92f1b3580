"""A one-line progress bar on stderr for long audit runs: ``[#####.....] 37/120``.

Shown only on a terminal and only for runs long enough to need it, so logs and
pipes get the result lines alone.
"""

from __future__ import annotations

import sys
from typing import TextIO

THRESHOLD = 20
"""Runs of more items than this get a bar."""


class ProgressBar:
    """Redraws ``[####....] done/total`` in place with ``\\r``.

    Args:
        total: How many items the run has.
        stream: Where to draw (stderr by default).
        width: Characters between the brackets.
    """

    def __init__(self, total: int, *, stream: TextIO | None = None, width: int = 30) -> None:
        self._stream = stream or sys.stderr
        self._total = total
        self._done = 0
        self._width = width
        self.enabled = total > THRESHOLD and self._stream.isatty()

    def advance(self, line: str | None = None) -> None:
        """Count one item done: print its result ``line`` (stdout) above the bar, redraw."""
        self.clear()
        if line is not None:
            print(line, flush=self.enabled)
        self._done += 1
        self.draw()

    def draw(self) -> None:
        """Draw the bar in its current state."""
        if not self.enabled:
            return
        filled = self._width * self._done // max(self._total, 1)
        bar = "#" * filled + "." * (self._width - filled)
        self._stream.write(f"\r[{bar}] {self._done}/{self._total}")
        self._stream.flush()

    def clear(self) -> None:
        """Erase the bar, so a result line can be printed where it was."""
        if self.enabled:
            self._stream.write("\r\x1b[K")
            self._stream.flush()

    def finish(self) -> None:
        """Remove the bar for good."""
        self.clear()
        self.enabled = False
