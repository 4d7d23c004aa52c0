"""Which loop callbacks of an asyncio run had their pass of the loop chosen by a clock.

The tracer counts the passes of each thread's loops (one select per _run_once, see
tracers/python/_looplens_loop.py). A handover from another thread joins the ready queue when the
thread is done: while the loop is running a pass, it waits for the next one; while the loop
sleeps in select, it wakes one. Which it is depends on real time, so every handover's pass is
the clock's (every run of a snippet marks the same ones). Timers are left out: virtual time
jumps to timers due together in one pass, whatever the machine.
"""

from __future__ import annotations

from collections.abc import Iterable

from looplens.tracing.python.margins import is_handover
from looplens.tracing.python.runs import Run


def unsettled_turns(started: Iterable[Run]) -> list[Run]:
    """The handovers among `started`: their pass of the loop was the clock's."""
    return [run for run in started if is_handover(run)]
