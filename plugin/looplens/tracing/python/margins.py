"""The orders between loop callbacks that a clock decided, each with its margin and the stall in
it: what a Python trace proves about its printed order.

asyncio runs its ready handles first in, first out. What puts a handle in the ready queue at a
time of the clock's choosing is a root: a handover from another thread (executor work or a
thread calling call_soon_threadsafe: it arrives when the thread is done) or a timer (ready when
due). Every other handle was queued by the one that ran before it in its chain. Each callback
that printed on a loop's thread hangs from its nearest root, or from none (the main script).

For two such callbacks, X (ran first) and Y (ran later), the order is the loop's own (never a
decision) when they share a root, when they are steps of one task, when X is an ancestor of Y, when
both roots are timers (due-time order), when Y's root was armed (its work submitted, its timer set)
only after X started, or when Y's root is a timer set in the pass that queued X or a later one (a
timer enters the ready queue at the start of a pass, behind what is there). Else ready handles run
first in, first out: X ran first because it entered the ready queue first, and the margin is how
long before Y it did (had X's root come that much later, or Y's that much sooner, Y would have been
first). A timer enters when a pass finds it due: for X, at the latest when it started; for Y, at
the soonest when due, and what hangs from a timer that ran late could have come as much sooner.
Times are on the loop's clock: real time plus the waits that virtual time jumped over, which no
thread or socket could have used. asyncio.as_completed's done callbacks count as printing: where
they run, the order of completions becomes the order of results, even when one callback later
prints them all.

The stall is what the machine held back inside that window: the run-queue delay of each thread
whose work was a root (from when it picked the work up to the handover), and, where a timer or
the loop's own pace takes part, the loop thread's between X and Y.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from looplens.trace import MAIN_THREAD, ClockKind
from looplens.tracing.python.runs import Run

#: (first, second, kind, margin ms, stall ms), as assembly.assemble takes them.
Decision = tuple[Run, Run, ClockKind, float, float]
#: Pairs are weighed among so many printing callbacks at most.
MAX_RUNS = 2000
#: The API that the tracer gives asyncio.as_completed's done callbacks.
COMPLETION_COLLECTOR = "as_completed"
#: Contexts of executor work and of threads.
THREAD_QUEUE = "thread"


def find_decisions(started: Sequence[Run]) -> list[Decision]:
    """The clock decisions among the printing loop callbacks of `started` (in start order)."""
    printing = [
        run
        for run in started
        if (run.printed or is_completion_collector(run))
        and run.thread == MAIN_THREAD
        and run.queue not in ("sync", THREAD_QUEUE)
        and run.started_us is not None
    ][:MAX_RUNS]
    roots = _roots(started)
    ancestry = _Ancestry(started)
    decisions: list[Decision] = []
    for index, first in enumerate(printing):
        for second in printing[index + 1 :]:
            if ancestry.is_ancestor(first, second):
                continue
            decision = _decision(first, second, roots.get(id(first)), roots.get(id(second)))
            if decision is not None:
                decisions.append(decision)
    return decisions


def is_completion_collector(run: Run) -> bool:
    """One of asyncio.as_completed's done callbacks (the tracer names them so)."""
    return run.api == COMPLETION_COLLECTOR


def _roots(started: Sequence[Run]) -> dict[int, Run | None]:
    """For each run of `started` (by id), the nearest handover or timer it hangs from (itself
    included), or None. A run's parent queued it while running, so it started first: one pass in
    start order sees every parent's root before its children's."""
    roots: dict[int, Run | None] = {}
    for run in started:
        if is_handover(run) or _is_timer(run):
            roots[id(run)] = run
        elif run.parent is not None and run.parent.queue != "sync":
            roots[id(run)] = roots.get(id(run.parent))
        else:
            roots[id(run)] = None
    return roots


class _Ancestry:
    """Whether one run descends from another, in constant time: each run's place in a
    depth-first walk of the tree that the runs' parents make (a pair of printing callbacks
    would otherwise walk a chain as long as the run)."""

    def __init__(self, started: Sequence[Run]) -> None:
        children: dict[int, list[Run]] = defaultdict(list)
        known: dict[int, Run] = {}
        tops: list[Run] = []
        for run in started:
            current: Run | None = run
            while current is not None and id(current) not in known:
                known[id(current)] = current
                if current.parent is None:
                    tops.append(current)
                else:
                    children[id(current.parent)].append(current)
                current = current.parent
        self.enter: dict[int, int] = {}
        self.leave: dict[int, int] = {}
        clock = 0
        for top in tops:
            stack: list[tuple[Run, bool]] = [(top, False)]
            while stack:
                run, done = stack.pop()
                clock += 1
                if done:
                    self.leave[id(run)] = clock
                    continue
                self.enter[id(run)] = clock
                stack.append((run, True))
                stack.extend((child, False) for child in children[id(run)])

    def is_ancestor(self, first: Run, second: Run) -> bool:
        """`first` is a strict ancestor of `second`."""
        first_in, second_in = self.enter.get(id(first)), self.enter.get(id(second))
        if first_in is None or second_in is None or first is second:
            return False
        return first_in < second_in and self.leave[id(second)] < self.leave[id(first)]


def is_handover(run: Run) -> bool:
    return run.parent is not None and run.parent.queue == THREAD_QUEUE and run.queue != THREAD_QUEUE


def _is_timer(run: Run) -> bool:
    return run.queue == "timer" and run.queued_us is not None


def _decision(first: Run, second: Run, root_x: Run | None, root_y: Run | None) -> Decision | None:
    if root_x is None and root_y is None:
        return None
    if root_x is root_y or _forced(first, root_x, root_y):
        return None
    if first.task is not None and first.task == second.task:
        # A task runs its steps one after the other: a later one cannot come first. What the
        # clock decided there (which result a step got) shows in the callbacks that handed the
        # results over, as_completed's among them.
        return None
    entry_x, entry_y = _latest_entry_us(first), _earliest_entry_us(second, root_y)
    if entry_x is None or entry_y is None:
        return None
    # Ready handles run first in, first out: X ran first because it entered the ready queue
    # first. Had its root come that much later (or Y's that much sooner), Y would have been first.
    margin_us = entry_y - entry_x
    handovers = [root for root in (root_x, root_y) if root is not None and is_handover(root)]
    kind: ClockKind = "thread" if handovers else "timer"
    return (first, second, kind, max(0.0, margin_us) / 1000, _stall_ms(first, second, handovers))


def _forced(first: Run, root_x: Run | None, root_y: Run | None) -> bool:
    """The loop's rules alone put `first` before a callback that hangs from `root_y`."""
    if root_y is None:
        return False
    if root_x is not None and _is_timer(root_x) and _is_timer(root_y):
        # Timers run in due-time order.
        return True
    armed = _armed_us(root_y)
    if armed is not None and first.started_us is not None and armed >= first.started_us:
        # Y's root was armed only after X started.
        return True
    # A timer enters the ready queue at the start of a pass after the one that set it: what
    # was queued in that pass or before is ahead of it, due or not.
    setter, queuer = root_y.parent, first.parent
    return (
        _is_timer(root_y)
        and setter is not None
        and queuer is not None
        and queuer.thread == setter.thread
        and queuer.turn <= setter.turn
    )


def _armed_us(root: Run) -> int | None:
    """When a root was armed: its work submitted (a handover), its timer set."""
    if is_handover(root):
        assert root.parent is not None
        return root.parent.queued_us
    return root.queued_us


def _latest_entry_us(run: Run) -> float | None:
    """When `run` entered the ready queue, at the latest: a timer enters when a pass finds it due,
    before it starts; any other handle when it is queued."""
    return run.started_us if _is_timer(run) else run.queued_us


def _earliest_entry_us(run: Run, root: Run | None) -> float | None:
    """When `run` could have entered the ready queue, at the soonest: a timer when due; a
    callback that hangs from a timer that ran late, as much sooner as that timer was late."""
    if _is_timer(run):
        return _due_us(run)
    if run.queued_us is None:
        return None
    if root is not None and _is_timer(root) and root.started_us is not None:
        return run.queued_us - max(0.0, root.started_us - _due_us(root))
    return run.queued_us


def _due_us(timer: Run) -> float:
    assert timer.queued_us is not None
    return timer.queued_us + timer.delay_ms * 1000


def _stall_ms(first: Run, second: Run, handovers: list[Run]) -> float:
    stall = sum(_work_stall_us(root) for root in handovers)
    if len(handovers) < 2 and first.started_rd is not None and second.started_rd is not None:
        # A timer's turn, or a chain of the loop's own, keeps the loop thread's pace.
        stall += max(0, second.started_rd - first.started_rd)
    return stall / 1000


def _work_stall_us(handover: Run) -> int:
    """How long the machine kept the thread of a handover's work waiting, up to the handover."""
    work = handover.parent
    if (
        work is None
        or handover.queued_rd is None
        or work.started_rd is None
        or handover.queued_thread != work.thread
    ):
        return 0
    return max(0, handover.queued_rd - work.started_rd)
