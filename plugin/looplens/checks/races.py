"""Recognise, from one trace, the races whose printed order can change from run to run.

A single run shows one order; these rules say when another run could show another. Each rule is
narrow on purpose: a recognised race must be a real one, because the build fails on it. What the
rules cannot see (a race no rule knows) the repeated runs catch (see looplens.checks.judge).

The rules, each shown flipping by a snippet in tests/test_nondeterminism.py:

- Node, timer against immediate: a setTimeout/setInterval of at most 1 ms and a setImmediate,
  both scheduled in the same turn that is not an I/O callback (the main script, or a setImmediate
  callback). The loop's next turn checks the timers first; whether 1 ms has passed by then depends
  on how fast the machine got there. From an I/O (poll) callback the check phase comes first and
  the immediate always wins; from a timer callback the new timer waits for the next turn. Neither
  is flagged. Known limit: a turn that keeps running for over 1 ms after scheduling both makes the
  timer always first, and a trace has no wall clock to see that; no snippet of the site does it.
- Node, thread-pool completions: two or more callbacks of thread-pool work (fs, crypto.pbkdf2,
  scrypt, randomBytes, dns.lookup) pending at once, each printing in its own callback or in a
  `.then` on it. The pool's threads finish in whatever order the OS runs them. A snippet that
  sets UV_THREADPOOL_SIZE to 1 has a pool that is a queue: jobs finish in submission order.
- Python, executor completions: two or more `to_thread` / `run_in_executor` calls pending at once,
  due at the same logical time, whose completions wake different tasks (or callbacks) that print.
  Steps of one task are sequential whatever order the threads finish in, so they are left out.
- Python, timer against thread: a callback woken by a timer (asyncio.sleep, call_later) and a
  thread's completion, due at the same logical time, in different tasks, both printing. The
  thread's time is real however the clock runs, so which comes first is up to the machine.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations

from looplens.trace import MAIN_THREAD, Callback, Trace

#: Node APIs whose work runs on libuv's thread pool and completes in the poll phase.
_THREAD_POOL_APIS = (
    "fs.",
    "crypto.pbkdf2",
    "crypto.scrypt",
    "crypto.randomBytes",
    "crypto.randomFill",
    "crypto.generateKey",
    "dns.lookup",
)
#: Node queues that run in the same turn as the callback that queued them.
_SAME_TURN_QUEUES = frozenset({"nextTick", "microtask"})
#: Turns after which the loop's next stop is the timers phase, before the check phase.
_TIMERS_NEXT_AFTER = frozenset({"sync", "check"})
#: Node clamps a timer's delay to at least 1 ms: 0 and 1 are the same timer.
_RACING_DELAY_MS = 1.0
#: process.env.UV_THREADPOOL_SIZE = "1" (or = 1), set before the pool starts.
_POOL_OF_ONE = re.compile(r"""UV_THREADPOOL_SIZE["'\]]*\s*=\s*["']?1["']?(?![\w.])""")
_PROMISE_REACTIONS = frozenset({".then", ".catch", ".finally"})


@dataclass(frozen=True, slots=True)
class Race:
    """Two callbacks of one run whose order another run may swap."""

    rule: str
    first: Callback
    second: Callback
    #: Why their order is not fixed, in a sentence that names their lines.
    explanation: str


def recognise_races(trace: Trace, source: str = "") -> tuple[Race, ...]:
    """The known races in one run of `source`, at most one per pair of callbacks, in the order
    found. The source is read for what a trace cannot show: the size of Node's thread pool."""
    view = _TraceView(trace)
    if trace.language == "javascript":
        found = list(_timer_against_immediate(view))
        if not _POOL_OF_ONE.search(source):
            found += _thread_pool_completions(view)
    else:
        found = [*_executor_completions(view), *_timer_against_thread(view)]
    return tuple(found)


class _TraceView:
    """The questions the rules ask of a trace, answered once."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.by_id = {callback.id: callback for callback in trace.callbacks}
        self.children: dict[int, list[Callback]] = defaultdict(list)
        for callback in trace.callbacks:
            if callback.parent is not None:
                self.children[callback.parent].append(callback)
        self.printing = {line.callback for line in trace.lines}
        self.queued_at: dict[int, int] = {}
        self.ran_at: dict[int, int] = {}
        for index, event in enumerate(trace.events):
            if event.kind == "queued":
                self.queued_at.setdefault(event.callback, index)
            elif event.kind == "run":
                self.ran_at.setdefault(event.callback, index)

    def turn_root(self, callback: Callback) -> Callback:
        """The macrotask whose turn a callback runs in (itself, unless a tick or microtask)."""
        while callback.queue in _SAME_TURN_QUEUES and callback.parent in self.by_id:
            callback = self.by_id[callback.parent]
        return callback

    def prints_in_turn(self, callback: Callback) -> bool:
        """It prints, or a tick or microtask it queued (or one of theirs) does."""
        if callback.id in self.printing:
            return True
        return any(
            self.prints_in_turn(child)
            for child in self.children[callback.id]
            if child.queue in _SAME_TURN_QUEUES
        )

    def pending_together(self, first: Callback, second: Callback) -> bool:
        """Both were queued before either ran."""
        try:
            last_queued = max(self.queued_at[first.id], self.queued_at[second.id])
            first_run = min(self.ran_at[first.id], self.ran_at[second.id])
        except KeyError:
            return False
        return last_queued < first_run


def _where(callback: Callback) -> str:
    return f"{callback.api} at line {callback.line}" if callback.line else callback.api


def _timer_against_immediate(view: _TraceView) -> Iterator[Race]:
    timers = [c for c in view.trace.callbacks if c.api in ("setTimeout", "setInterval")]
    immediates = [c for c in view.trace.callbacks if c.api == "setImmediate"]
    for timer in timers:
        scheduler = view.by_id.get(timer.parent) if timer.parent is not None else None
        if scheduler is None or timer.t - scheduler.t > _RACING_DELAY_MS:
            continue
        turn = view.turn_root(scheduler)
        if turn.queue not in _TIMERS_NEXT_AFTER or not view.prints_in_turn(timer):
            continue
        for immediate in immediates:
            parent = view.by_id.get(immediate.parent) if immediate.parent is not None else None
            if (
                parent is None
                or view.turn_root(parent).id != turn.id
                or immediate.thread != timer.thread
                or not view.prints_in_turn(immediate)
            ):
                continue
            where = "the main script" if turn.queue == "sync" else f"the {_where(turn)} callback"
            yield Race(
                "timer-vs-immediate",
                timer,
                immediate,
                f"{_where(timer)} (due after 1 ms) and {_where(immediate)} are both scheduled "
                f"from {where}, outside an I/O callback: the loop's next turn runs the timer "
                "first only if 1 ms has already passed when it gets there, which depends on "
                "the machine, so either may print first",
            )
            break


def _thread_pool_completions(view: _TraceView) -> Iterator[Race]:
    completions = [
        c
        for c in view.trace.callbacks
        if c.queue == "poll"
        and c.api.startswith(_THREAD_POOL_APIS)
        and (c.id in view.printing or _reaction_prints(view, c))
    ]
    for first, second in combinations(completions, 2):
        if first.thread == second.thread and view.pending_together(first, second):
            yield Race(
                "thread-pool",
                first,
                second,
                f"{_where(first)} and {_where(second)} run on the thread pool at the same "
                "time: their callbacks run in the order the threads finish, which the "
                "operating system decides",
            )


def _reaction_prints(view: _TraceView, completion: Callback) -> bool:
    return any(
        child.api in _PROMISE_REACTIONS and view.prints_in_turn(child)
        for child in view.children[completion.id]
    )


def _thread_completions(view: _TraceView) -> list[tuple[Callback, Callback]]:
    """(work, completion) for each thread whose completion prints.

    A thread's work is one callback on its own thread; its completion is what it queued back on
    the loop's thread (the step of the task that awaited it, or a callback)."""
    woken: list[tuple[Callback, Callback]] = []
    for work in view.trace.callbacks:
        if work.queue != "thread":
            continue
        back = [child for child in view.children[work.id] if child.thread != work.thread]
        if back and back[0].id in view.printing:
            woken.append((work, back[0]))
    return woken


def _executor_completions(view: _TraceView) -> Iterator[Race]:
    for (work_a, back_a), (work_b, back_b) in combinations(_thread_completions(view), 2):
        if back_a.t != back_b.t or _same_task(back_a, back_b):
            continue
        if _overlap(view, work_a, back_a, work_b, back_b):
            yield Race(
                "executor",
                work_a,
                work_b,
                f"{_where(work_a)} and {_where(work_b)} run in threads at the same time: "
                "what they wake runs in the order the threads finish, which the operating "
                "system decides",
            )


def _timer_against_thread(view: _TraceView) -> Iterator[Race]:
    completions = _thread_completions(view)
    completed = {back.id for _, back in completions}
    for woken in view.trace.callbacks:
        parent = view.by_id.get(woken.parent) if woken.parent is not None else None
        if (
            parent is None
            or woken.id in completed
            or woken.thread != MAIN_THREAD
            or woken.t <= parent.t  # not woken by a timer: nothing was waited for
            or woken.id not in view.printing
        ):
            continue
        for work, back in completions:
            if back.t != woken.t or _same_task(back, woken):
                continue
            # The timer was set (while its parent ran) before the thread's completion ran, and
            # the thread was started before the timer's callback ran.
            try:
                pending = (
                    view.ran_at[parent.id] < view.ran_at[back.id]
                    and view.queued_at[work.id] < view.ran_at[woken.id]
                )
            except KeyError:
                continue
            if pending:
                yield Race(
                    "timer-vs-thread",
                    woken,
                    work,
                    f"the timer that wakes {_where(woken)} and {_where(work)} are due at "
                    f"the same time ({woken.t:g} ms): the thread's time is real, so which "
                    "comes first depends on the machine",
                )
                break


def _overlap(
    view: _TraceView, first: Callback, first_done: Callback, second: Callback, second_done: Callback
) -> bool:
    """Each was queued before the other's completion ran: both were pending at once."""
    try:
        return (
            view.queued_at[first.id] < view.ran_at[second_done.id]
            and view.queued_at[second.id] < view.ran_at[first_done.id]
        )
    except KeyError:
        return False


def _same_task(first: Callback, second: Callback) -> bool:
    task = _task_name(first)
    return task is not None and task == _task_name(second)


def _task_name(callback: Callback) -> str | None:
    # Task steps are named "Task-2 step (coroutine)".
    head, _, rest = callback.api.partition(" step")
    return head if rest or callback.api.endswith(" step") else None
