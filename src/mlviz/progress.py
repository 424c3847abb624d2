"""A small progress bar on stderr."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """``[#####.....]  45/96 frames  1.2 s`` on one refreshed stderr line.

    Silent when ``enabled`` is false or the stream is not a terminal.
    """

    def __init__(self, total: int, label: str, enabled: bool = True, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.enabled = enabled and self.stream.isatty()
        self.total = max(total, 1)
        self.label = label
        self.done = 0
        self.start = time.perf_counter()
        self._last_draw = 0.0

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.perf_counter()
        if self.enabled and (now - self._last_draw > 0.05 or self.done >= self.total):
            self._last_draw = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        width = 30
        filled = int(width * min(self.done, self.total) / self.total)
        bar = "#" * filled + "." * (width - filled)
        self.stream.write(
            f"\r[{bar}] {self.done:>{len(str(self.total))}}/{self.total} {self.label}"
            f"  {now - self.start:.1f} s"
        )
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r\033[K")
            self.stream.flush()


def status(message: str, enabled: bool = True, stream: TextIO | None = None) -> None:
    """A transient one-line status message (e.g. 'training…') on a terminal."""
    stream = stream or sys.stderr
    if enabled and stream.isatty():
        stream.write(f"\r\033[K{message}")
        stream.flush()
