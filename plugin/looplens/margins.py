"""What a clock decision's margin proves: a fixed order, a race, or a run the machine disturbed.

A tracer records each order a clock decided with its margin (how much earlier or later one event
would have had to happen for the other callback to run first) and the stall inside the window
that decided it (how long the machine kept the thread waiting to run). Read against the smallest
margin a page accepts:

- margin at or above it, and no stall that could have decided it: the order is steady, decided by
  the clock with that much to spare;
- margin below it, and no stall that could account for the shortfall: a race, whatever the
  machine; the order must not be shown as the only one;
- otherwise the run is disturbed: the machine, not the snippet, may have decided the order. It
  proves nothing either way and runs again.
"""

from __future__ import annotations

from looplens.trace import ClockDecision, Trace

#: The smallest margin (ms) by which a clock may decide an order that a page shows as fixed, when
#: neither mkdocs.yml (min_margin_ms) nor the fence (min_margin_ms=) sets one. A loaded machine
#: stalls a process for a few milliseconds at a time; ten of them are well clear of that.
DEFAULT_MIN_MARGIN_MS = 10.0
#: Stalls shorter than this are the scheduler's ordinary granularity: they decide nothing.
STALL_FLOOR_MS = 1.0
#: Runs of one snippet, in all, before a run the machine keeps disturbing is judged as it is.
MAX_ATTEMPTS = 8


def is_disturbed(decision: ClockDecision, min_margin_ms: float) -> bool:
    """The stall inside its window may have decided the order: as long as the margin, or long
    enough to have pushed a steady margin under the minimum."""
    stall = decision.stall_ms
    if stall < STALL_FLOOR_MS:
        return False
    return stall >= decision.margin_ms or (
        decision.margin_ms < min_margin_ms <= decision.margin_ms + stall
    )


def is_race(decision: ClockDecision, min_margin_ms: float) -> bool:
    """Decided by the clock with less than the minimum to spare, on a machine that did not stall."""
    return decision.margin_ms < min_margin_ms and not is_disturbed(decision, min_margin_ms)


def disturbance(trace: Trace, min_margin_ms: float) -> ClockDecision | None:
    """The first decision of a run that its machine may have decided; None: it proves them all."""
    return next((d for d in trace.decisions if is_disturbed(d, min_margin_ms)), None)


def races(trace: Trace, min_margin_ms: float) -> tuple[ClockDecision, ...]:
    """The decisions of a run that are races, smallest margin first."""
    found = [d for d in trace.decisions if is_race(d, min_margin_ms)]
    return tuple(sorted(found, key=lambda d: d.margin_ms))


def closest(trace: Trace) -> ClockDecision | None:
    """The clock decision with the least to spare; None when the loop's rules forced every order."""
    return min(trace.decisions, key=lambda d: d.margin_ms, default=None)
