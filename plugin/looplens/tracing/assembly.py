"""The last step of both tracers: callbacks that matter, numbered, and the Trace they make.

Each tracer's record reader (tracing/node/reader.py, tracing/python/reader.py) builds its own runs;
what a reader of the page sees is the same for both: the kept runs numbered in order of first
appearance (the main script first), printed lines and events pointing at those numbers, and a
dropped run's children hanging from its nearest kept ancestor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, Protocol, Self, TypeVar

from looplens.trace import Callback, ClockDecision, ClockKind, Event, EventKind, PrintedLine, Trace
from looplens.tracing.output import Line


class RunLike(Protocol):
    """What assemble reads of a record reader's run; a run's parent is a run of the same reader."""

    queue: str
    api: str
    line: int | None
    due: float
    thread: str
    parent: Self | None
    #: The loop turn it ran in, on its thread.
    turn: int


R = TypeVar("R", bound=RunLike)

#: (sort key, run, kind, logical time, printed line index) as the record readers collect them.
PendingEvent = tuple[tuple[int, ...], R, EventKind, float, int | None]
#: (first run, second run, kind, margin ms, stall ms): a clock decision as a reader finds it.
PendingDecision = tuple[R, R, ClockKind, float, float]


def assemble(
    language: Literal["javascript", "python"],
    runtime: str,
    exit_code: int,
    kept: Sequence[R],
    found: Sequence[Line[R]],
    events: Sequence[PendingEvent[R]],
    *,
    truncated: bool,
    decisions: Sequence[PendingDecision[R]] = (),
    unsettled: Sequence[R] = (),
    print_sites: Mapping[int, int] | None = None,
) -> Trace:
    """The Trace of the `kept` runs (already in order, the main script first); `unsettled`:
    runs (kept or not) whose pass of the loop a clock decided by less than the minimum margin;
    `print_sites`: the snippet's line of each write, by its record index."""
    ids: dict[RunLike, int] = {run: number for number, run in enumerate(kept)}
    turns = _turns_counted(kept)
    callbacks = tuple(
        Callback(
            ids[run],
            run.queue,
            run.api,
            run.line,
            _parent_id(run, ids),
            run.due,
            run.thread,
            turns[run],
        )
        for run in kept
    )
    lines = _printed_lines(found, ids, turns, print_sites or {})
    ordered = tuple(
        Event(kind, ids[run], t, line_index)
        for _, run, kind, t, line_index in sorted(events, key=lambda event: event[0])
        if run in ids
    )
    return Trace(
        language,
        runtime,
        exit_code,
        lines,
        callbacks,
        ordered,
        truncated=truncated,
        decisions=_decisions_between_kept(decisions, ids),
        turns_measured=_turns_measured(kept, unsettled, ids),
    )


def _printed_lines(
    found: Sequence[Line[R]],
    ids: dict[RunLike, int],
    turns: Mapping[R, int],
    sites: Mapping[int, int],
) -> tuple[PrintedLine, ...]:
    return tuple(
        PrintedLine(
            line.text,
            line.stream,
            line.owner.queue,
            line.owner.line,
            line.t,
            ids[line.owner],
            line.owner.thread,
            turns[line.owner],
            sites.get(line.index),
        )
        for line in found
    )


def _turns_measured(
    kept: Sequence[R], unsettled: Sequence[R], ids: dict[RunLike, int]
) -> tuple[int, ...]:
    # One pass more or less moves every turn counted after it on that thread.
    first_unsettled: dict[str, int] = {}
    for run in unsettled:
        first_unsettled[run.thread] = min(run.turn, first_unsettled.get(run.thread, run.turn))
    return tuple(
        ids[run]
        for run in kept
        if run.thread in first_unsettled and run.turn >= first_unsettled[run.thread]
    )


def _decisions_between_kept(
    decisions: Sequence[PendingDecision[R]], ids: dict[RunLike, int]
) -> tuple[ClockDecision, ...]:
    # A decision between runs that are not kept (nothing printed there) tells the page nothing.
    return tuple(
        ClockDecision(ids[first], ids[second], kind, round(margin, 1), round(stall, 1))
        for first, second, kind, margin, stall in decisions
        if first in ids and second in ids
    )


def _turns_counted(kept: Sequence[R]) -> dict[R, int]:
    """Each run's turn, counting only the passes of its thread's loop that ran a kept callback.

    A pass in which nothing of the snippet ran (the loop woke for Node's own handles, or a moment
    early for a timer) shows nothing to a reader, and how many such passes a run has depends on
    the machine: counted, they would make "turn 3" of one build "turn 4" of the next. Uncounted,
    a turn is the n-th pass that ran the snippet's code, and the order of turns is unchanged."""
    passes: dict[str, set[int]] = {}
    for run in kept:
        passes.setdefault(run.thread, {0}).add(run.turn)
    rank = {
        thread: {raw: n for n, raw in enumerate(sorted(seen))} for thread, seen in passes.items()
    }
    return {run: rank[run.thread][run.turn] for run in kept}


def _parent_id(run: RunLike, ids: dict[RunLike, int]) -> int | None:
    parent = run.parent
    while parent is not None and parent not in ids:
        parent = parent.parent
    return None if parent is None else ids[parent]
