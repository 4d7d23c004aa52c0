"""Say how far a long cold build is, so that it never looks stuck."""

from __future__ import annotations

import time
from collections.abc import Callable


class ProgressLog:
    """Reports the traced count at most every INTERVAL_S seconds, never for the last snippet."""

    INTERVAL_S = 2.0

    def __init__(self, say: Callable[[str], None]) -> None:
        self._say = say
        self._last = time.perf_counter()

    def report(self, finished: int, to_run: int) -> None:
        now = time.perf_counter()
        if now - self._last >= self.INTERVAL_S and finished < to_run:
            self._last = now
            self._say(f"traced {finished}/{to_run} snippets")
