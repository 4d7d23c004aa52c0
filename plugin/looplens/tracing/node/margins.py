"""The orders between macrotasks that a clock decided, each with its margin and the stall in it.

For two macrotasks of a thread, X (ran first) and Y (ran later), both printing in their turn, the
order is the loop's own (never a decision) when Y was armed only after X started (causality), Y
reads a socket that X, or a callback it led to, sent to before Y started (SendCauses: a peer in
the same process caused what Y read), both are timers (due-time order), or both immediates
or both close callbacks (FIFO). Else the order was decided by when they were ready:

- m1, Y earlier: if Y is clock-driven and had a slot before X's (an immediate set in an I/O
  callback has none before the next timers phase; nothing armed by the main script runs before
  the first turn), how far its readiness lay after X's slot (the start of the first callback of
  X's phase in X's turn);
- m2, X later: if X is clock-driven and Y ran before X's next slot of the same phase, how far X's
  readiness lay before its slot; if the thread sat waiting for X, its slot would have waited for
  it too, so how far X's readiness lay before Y's.

A timer is ready when due; an I/O completion (or message) somewhere between when it was armed
and when it ran, or right when it ran if the thread sat waiting for it. The margin is the smaller
of the two (never below 0); the stall is the run-queue delay from the earlier arming to Y's start.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

from looplens.trace import ClockKind
from looplens.tracing.node.runs import CROSS_THREAD_TYPES, PHASE_RANK, SOCKET_TYPES, Run, Send
from looplens.tracing.node.turns import MACROTASK_QUEUES

#: (first, second, kind, margin ms, stall ms), as assembly.assemble takes them.
Decision = tuple[Run, Run, ClockKind, float, float]
#: Pairs are weighed among so many printing macrotasks of a thread at most.
MAX_RUNS = 2000
_MESSAGE_TYPES = CROSS_THREAD_TYPES | {"unknown"}


def find_decisions(runs: Sequence[Run]) -> list[Decision]:
    """The clock decisions among `runs` (all threads, in the order they started, turns set)."""
    by_thread: dict[str, list[Run]] = defaultdict(list)
    for run in _printing_macrotasks(runs):
        by_thread[run.thread].append(run)
    slots = _slots(runs)
    causes = SendCauses(runs)
    decisions: list[Decision] = []
    for thread_runs in by_thread.values():
        decisions.extend(_thread_decisions(thread_runs[:MAX_RUNS], slots, causes))
    return decisions


class SendCauses:
    """Which runs a run may have caused through what it sent: a run of a socket reached by a
    send of the run or of one it caused, made before that run started (the peer of a TCP socket
    is the one whose ports are its own, swapped; a pipe's or a datagram socket's, any of its
    kind; a listening socket's, any connect), and every run armed by one it caused."""

    def __init__(self, runs: Sequence[Run]) -> None:
        self.runs = runs
        self.position = {id(run): index for index, run in enumerate(runs)}
        self.any_sends = any(run.sends for run in runs)
        self.reached: dict[int, set[int]] = {}

    def caused(self, first: Run, second: Run) -> bool:
        if not self.any_sends or second.resource_type not in SOCKET_TYPES:
            return False
        reached = self.reached.get(id(first))
        if reached is None:
            reached = self.reached[id(first)] = self._reach(first)
        return id(second) in reached

    def _reach(self, first: Run) -> set[int]:
        reached = {id(first)}
        sends = list(first.sends)
        for run in self.runs[self.position.get(id(first), len(self.runs)) + 1 :]:
            armed = run.parent is not None and id(run.parent) in reached
            if armed or any(_reaches(send, run) for send in sends):
                reached.add(id(run))
                sends.extend(run.sends)
        return reached


def _reaches(send: Send, run: Run) -> bool:
    """Whether `send` may be what `run` (of a socket, not yet started then) reads."""
    if run.started_us is None or send.us >= run.started_us:
        return False
    kind = run.resource_type
    if send.kind == "connect":
        return kind in ("TCPSERVERWRAP", "PIPESERVERWRAP")
    if send.kind == "udp":
        return kind == "UDPWRAP"
    if send.local is None or send.remote is None:
        return kind in ("PIPEWRAP", "TTYWRAP")
    if kind != "TCPWRAP":
        return False
    # A TCP socket whose ports the tracer could not read may be the peer.
    return run.ports is None or run.ports == (send.remote, send.local)


def _printing_macrotasks(runs: Sequence[Run]) -> list[Run]:
    """The macrotasks that printed, themselves or through a nextTick or microtask they left in
    the same turn; in the order they started."""
    printing: set[int] = set()
    for run in runs:
        if not run.printed:
            continue
        owner: Run | None = run
        while owner is not None and owner.queue in ("nextTick", "microtask"):
            owner = owner.parent
        if owner is not None and owner.turn == run.turn:
            printing.add(id(owner))
    return [
        run
        for run in runs
        if id(run) in printing and run.queue in MACROTASK_QUEUES and run.started_us is not None
    ]


def _slots(runs: Sequence[Run]) -> dict[tuple[str, int, str], int]:
    """When each phase of each turn of each thread began: its first callback's start."""
    slots: dict[tuple[str, int, str], int] = {}
    for run in runs:
        if run.queue in MACROTASK_QUEUES and run.started_us is not None:
            slots.setdefault((run.thread, run.turn, run.queue), run.started_us)
    return slots


def _thread_decisions(
    runs: list[Run], slots: dict[tuple[str, int, str], int], causes: SendCauses
) -> list[Decision]:
    decisions = []
    for index, first in enumerate(runs):
        slot = slots[first.thread, first.turn, first.queue]
        for second in runs[index + 1 :]:
            if causes.caused(first, second):
                continue
            decision = _decision(first, second, slot)
            if decision is not None:
                decisions.append(decision)
    return decisions


def _decision(first: Run, second: Run, slot: int) -> Decision | None:
    if _forced(first, second):
        return None
    kind = _kind(first, second)
    if kind == "message":
        # Which of two other threads' messages comes first is up to those threads' clocks,
        # which the records do not time: the smallest margin it can have.
        return (first, second, kind, 0.0, _stall_ms(first, second))
    earlier = math.inf
    if _clock_driven(second) and _earliest_place(second) <= (first.turn, first.phase_rank):
        earlier = _ready_from(second) - slot
    later = math.inf
    if _clock_driven(first) and (second.turn, second.phase_rank) < (
        first.turn + 1,
        first.phase_rank,
    ):
        # A thread that sat waiting for X would have waited as long as X took.
        later = (_ready_from(second) if first.waited else slot) - _ready_by(first)
    if math.isinf(earlier) and math.isinf(later):
        return None
    margin = max(0.0, min(earlier, later)) / 1000
    return (first, second, kind, margin, _stall_ms(first, second))


def _forced(first: Run, second: Run) -> bool:
    """The loop's rules alone put `first` before `second`."""
    if first.resource_key == second.resource_key:
        return True
    if first.queue == second.queue and first.queue in ("timers", "check", "close"):
        return True
    return (
        second.armed_us is not None
        and first.started_us is not None
        and second.armed_us >= first.started_us
    )


def _earliest_place(run: Run) -> tuple[int, int]:
    """The first (turn, phase rank) where `run` could have run, after the callback that armed
    it: later in the same turn, or in the same timers or poll phase (a timer set while the
    timers run can still come due in them; a completion can come in the poll that armed it).
    What the main script (or a tick or microtask after it) armed has the first turn at best."""
    armer = run.parent
    if armer is None:
        return (0, run.phase_rank)
    if armer.phase_rank == PHASE_RANK["sync"]:
        return (armer.turn + 1, run.phase_rank)
    same_turn = run.phase_rank > armer.phase_rank or (
        run.phase_rank == armer.phase_rank and run.queue in ("timers", "poll")
    )
    return (armer.turn if same_turn else armer.turn + 1, run.phase_rank)


def _kind(first: Run, second: Run) -> ClockKind:
    messages = (first.resource_type in _MESSAGE_TYPES, second.resource_type in _MESSAGE_TYPES)
    if all(messages):
        return "message"
    if any(_is_io(run) for run in (first, second)):
        return "io"
    return "timer"


def _is_io(run: Run) -> bool:
    return run.queue == "poll"


def _clock_driven(run: Run) -> bool:
    return run.due_us is not None or _is_io(run)


def _ready_from(run: Run) -> float:
    """The earliest it can have been ready (µs)."""
    if run.due_us is not None:
        return run.due_us
    if run.waited and run.started_us is not None:
        return run.started_us
    return run.armed_us if run.armed_us is not None else -math.inf


def _ready_by(run: Run) -> float:
    """The latest it can have been ready (µs)."""
    if run.due_us is not None:
        return run.due_us
    return run.started_us if run.started_us is not None else math.inf


def _stall_ms(first: Run, second: Run) -> float:
    """The run-queue delay from the earlier of the two armings to `second`'s start."""
    armed = [run for run in (first, second) if run.armed_rd is not None]
    if not armed or second.started_rd is None:
        return 0.0
    start = min(armed, key=lambda run: run.armed_us or 0)
    assert start.armed_rd is not None
    return max(0, second.started_rd - start.armed_rd) / 1000
