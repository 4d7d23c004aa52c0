"""Virtual time: jump over waits that nothing but a timer could end.

The clock that the snippet sees is the real one plus an offset. The offset grows only when the
process would otherwise wait with nothing able to happen meanwhile: the event loop about to block
in select() with only timers pending, or time.sleep() in the loop's thread while no other thread
or socket is active. Real time keeps running underneath (a busy loop still measures its own work);
while executor work, threads or sockets are pending, nothing jumps, so what they race against
stays real.

time.monotonic, perf_counter, time and their _ns variants all move by the same offset, so the
snippet's own measurements agree with loop.time(). Modules that bound a clock function before the
tracer started (threading, queue) keep the real one, which is what their timeouts need.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

_monotonic = time.monotonic
_monotonic_ns = time.monotonic_ns
_perf_counter = time.perf_counter
_perf_counter_ns = time.perf_counter_ns
_time = time.time
_time_ns = time.time_ns
_sleep = time.sleep


class VirtualClock:
    def __init__(self, *, virtual: bool) -> None:
        self.virtual = virtual
        self.offset = 0.0

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def monotonic(self) -> float:
        return _monotonic() + self.offset

    def offset_ns(self) -> int:
        return round(self.offset * 1e9)


def install(
    clock: VirtualClock,
    *,
    on_sleep: Callable[[float], None],
    may_skip_sleep: Callable[[], bool],
) -> None:
    """Patch the time module: clocks read through the offset, sleeps are recorded (and skipped
    when `may_skip_sleep` says nothing could happen meanwhile)."""

    def sleep(seconds: Any) -> None:
        valid = type(seconds) in (int, float) and seconds > 0 and math.isfinite(seconds)
        if not valid:
            # Zero, or an argument that the real sleep rejects with its own error.
            _sleep(seconds)
            return
        on_sleep(seconds)
        if clock.virtual and may_skip_sleep():
            clock.advance(seconds)
        else:
            _sleep(seconds)

    time.sleep = sleep
    if not clock.virtual:
        return
    time.monotonic = clock.monotonic
    time.monotonic_ns = lambda: _monotonic_ns() + clock.offset_ns()
    time.perf_counter = lambda: _perf_counter() + clock.offset
    time.perf_counter_ns = lambda: _perf_counter_ns() + clock.offset_ns()
    time.time = lambda: _time() + clock.offset
    time.time_ns = lambda: _time_ns() + clock.offset_ns()
