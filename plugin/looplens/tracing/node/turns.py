"""The loop turn of each callback, per thread.

libuv (>= 1.45, src/unix/core.c uv_run) runs the timers once before the loop, then in each pass:
pending, idle, prepare, count += 1, poll, check, close, timers. A turn holds the timers, poll,
check and close of one pass, so a macrotask's turn is the loop count it saw, plus one in the
timers phase; the main script is turn 0, and nextTicks and microtasks take the turn of the
callback they ran after. Turns never go back on a thread, and a phase that comes before the
previous callback's phase starts a new turn: an I/O callback of the pending phase (run before the
count moves on), or any callback where Node does not show the count (before 20.18 and 22.8).
"""

from __future__ import annotations

from collections.abc import Iterable

from looplens.margins import DEFAULT_MIN_MARGIN_MS
from looplens.tracing.node.runs import PHASE_RANK, Run

MACROTASK_QUEUES = frozenset({"timers", "poll", "check", "close"})


def assign_turns(runs: Iterable[Run]) -> None:
    """Set `turn` and `phase_rank` of `runs`, given in the order they started."""
    current: dict[str, tuple[int, int]] = {}
    for run in runs:
        turn, rank = current.get(run.thread, (0, PHASE_RANK["sync"]))
        if not (run.ran_user_code or run.printed or run.schedules_user):
            # Node's own callback, which no page shows, takes the turn it ran in without moving
            # it: Node 20 runs one made before the preload between the main script and the
            # microtasks it leaves, which would otherwise end turn 0 early.
            run.turn, run.phase_rank = turn, rank
            continue
        if run.queue == "sync" and run.parent is None:
            turn, rank = 0, PHASE_RANK["sync"]
        elif run.queue in MACROTASK_QUEUES:
            new_rank = PHASE_RANK[run.queue]
            counted = turn
            if run.loop_count is not None:
                counted = run.loop_count + (1 if run.queue == "timers" else 0)
            # Whatever runs after the main script is in a turn of the loop.
            new_turn = max(turn, counted, 1)
            if new_turn == turn and new_rank < rank:
                new_turn += 1
            turn, rank = new_turn, new_rank
        run.turn, run.phase_rank = turn, rank
        current[run.thread] = (turn, rank)


def unsettled_turns(runs: Iterable[Run]) -> list[Run]:
    """The timers among `runs` (in the order they started, turns set) whose pass a clock chose.

    libuv runs a timer in the first pass whose timers phase finds it due (by its millisecond
    clock). A timer due, on the logical clock, less than the minimum margin after the previous
    macrotask of its thread ran (or before it) was due close to where a pass looked: on another
    run it may join that pass or wait for the next one. The logical clock, not a reading of the
    real one, decides which timers these are, so that every run of a snippet marks the same ones
    (a busy loop that makes a timer certainly due is not seen: such a timer is marked too)."""
    previous: dict[str, float] = {}
    unsettled = []
    for run in runs:
        if run.queue not in MACROTASK_QUEUES or run.started_us is None:
            continue
        before = previous.get(run.thread)
        if (
            run.queue == "timers"
            and before is not None
            and run.due - before < DEFAULT_MIN_MARGIN_MS
        ):
            unsettled.append(run)
        previous[run.thread] = run.t
    return unsettled
