"""Races in words: which two callbacks, on which lines, decided by what, with how little to spare.

The margins prove a race; the patterns of looplens.checks.races only add the words that explain
the rule of the loop behind a race they know (why 1 ms is too little for a timer against an
immediate), where one matches the same two callbacks.
"""

from __future__ import annotations

from collections.abc import Sequence

from looplens.checks.races import recognise_races
from looplens.trace import Callback, ClockDecision, ClockKind, Trace

#: What the clock decided, for each kind of decision.
DECIDED_BY: dict[ClockKind, str] = {
    "timer": "whether a timer was due when the loop looked",
    "io": "when an I/O operation completed",
    "thread": "when a thread finished its work",
    "message": "when a message from another thread arrived",
}
#: Races named in full; the rest are counted.
SHOWN_RACES = 3


def race_words(
    trace: Trace, found: Sequence[ClockDecision], min_margin_ms: float, source: str = ""
) -> str:
    """The races of one run in words, the closest first."""
    explained = {
        frozenset((race.first.id, race.second.id)): race.explanation
        for race in recognise_races(trace, source)
    }
    shown = [_one_race(trace, decision, min_margin_ms, explained) for decision in found]
    more = len(shown) - SHOWN_RACES
    return "; ".join(shown[:SHOWN_RACES]) + (
        f"; and {more} more such pair{'s' if more > 1 else ''}" if more > 0 else ""
    )


def _one_race(
    trace: Trace,
    decision: ClockDecision,
    min_margin_ms: float,
    explained: dict[frozenset[int], str],
) -> str:
    first, second = trace.callback(decision.first), trace.callback(decision.second)
    words = (
        f"{where(first)} ran before {where(second)}, an order decided by "
        f"{DECIDED_BY[decision.kind]} with {decision.margin_ms:g} ms to spare (the page "
        f"needs {min_margin_ms:g} ms)"
    )
    why = explained.get(frozenset((first.id, second.id)))
    return f"{words}: {why}" if why else words


def where(callback: Callback) -> str:
    """A callback as a reader finds it in the snippet: its API and line."""
    name = f"the {callback.api} callback" if callback.api else "a callback"
    return f"{name} of line {callback.line}" if callback.line else name
