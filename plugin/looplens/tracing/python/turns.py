"""Which loop callbacks of an asyncio run had their pass of the loop chosen by a clock.

The tracer counts the passes of each thread's loops (one select per _run_once, see
tracers/python/_looplens_loop.py). A handover from another thread joins the ready queue when the
thread is done: while the loop is running a pass, it waits for the next one; while the loop
sleeps in select, it wakes one. One that arrived less than the minimum margin before the previous
handle of the loop's thread started, or at any time after, arrived close to where a pass began:
on another run it may run one pass sooner or later. Timers are left out: virtual time jumps to
timers due together in one pass, whatever the machine.
"""

from __future__ import annotations

from collections.abc import Iterable

from looplens.margins import DEFAULT_MIN_MARGIN_MS
from looplens.tracing.python.margins import THREAD_QUEUE, is_handover
from looplens.tracing.python.runs import Run


def unsettled_turns(started: Iterable[Run]) -> list[Run]:
    """The handovers among `started` (in the order they started) whose pass a clock chose."""
    margin_us = DEFAULT_MIN_MARGIN_MS * 1000
    previous: dict[str, int] = {}
    unsettled = []
    for run in started:
        if run.queue in ("sync", THREAD_QUEUE) or run.started_us is None:
            continue
        before = previous.get(run.thread)
        arrived = run.queued_us
        if (
            is_handover(run)
            and arrived is not None
            and before is not None
            and before >= arrived - margin_us
        ):
            unsettled.append(run)
        previous[run.thread] = run.started_us
    return unsettled
