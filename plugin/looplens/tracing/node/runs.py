"""The callbacks that reading Node's records builds, the resources they are runs of, and the order
of what happened to them.

Each run of a resource is one callback, except Node's own promise jobs (not ``direct``): the ES
module loader runs the module body in one, so what runs in them belongs to whoever queued them.
A run of a resource made before the preload loaded (a worker's parentPort) is a poll callback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from looplens.trace import EventKind

QUEUE_BY_TYPE = {
    "Timeout": "timers",
    "Immediate": "check",
    "TickObject": "nextTick",
    "PROMISE": "microtask",
    "Microtask": "microtask",
}
#: Every other resource type is I/O (files, sockets, thread pool, message ports): poll phase.
IO_QUEUE = "poll"
PROMISE_TYPES = frozenset({"PROMISE", "Microtask"})
#: Resources whose runs come from another thread: a message, a worker's exit. They are due no
#: sooner than the other threads' clocks.
CROSS_THREAD_TYPES = frozenset({"MESSAGEPORT", "WORKER"})
#: Handles that read what another part of the same process may have sent them: a connection
#: accepted, data or an end read, a datagram received.
SOCKET_TYPES = frozenset(
    {"TCPWRAP", "TCPSERVERWRAP", "PIPEWRAP", "PIPESERVERWRAP", "UDPWRAP", "TTYWRAP"}
)
#: Requests that connect to a listening socket: what a server accepts next.
CONNECTING_TYPES = frozenset({"TCPCONNECTWRAP", "PIPECONNECTWRAP"})
#: The order of libuv's phases within one turn (a turn holds timers, poll, check, close of one
#: pass of the loop); the main script comes before them all, in turn 0.
PHASE_RANK = {"sync": -1, "timers": 0, "poll": 1, "check": 2, "close": 3}
#: Queues whose callbacks a reader schedules directly, and so wants to see even when silent.
DIRECT_QUEUES = frozenset({"timers", "check", "nextTick", "microtask"})

#: One run of a resource: (thread, resource id, how many runs it had before).
RunKey = tuple[str, int, int]
#: Events sort by (record index, phase, sequence). A promise reaction is known to be queued only
#: when it runs, so its "queued" event goes back to the record that queued it, in phase 0.
EventKey = tuple[int, int, int]


def queue_of(resource_type: str) -> str:
    """The queue of the vocabulary that runs of a resource of this type come from."""
    return QUEUE_BY_TYPE.get(resource_type, IO_QUEUE)


@dataclass(frozen=True, slots=True)
class Send:
    """Something a callback sent at `us` (µs): "connect" (to a listening socket), "udp" (a
    datagram), or "stream" (a write or an end, from TCP port `local` to port `remote`; None for
    a pipe)."""

    us: int
    kind: Literal["connect", "udp", "stream"]
    local: int | None = None
    remote: int | None = None


@dataclass(eq=False, slots=True)
class Run:
    """A callback being built: one run of a resource, or a thread's main script."""

    thread: str
    queue: str
    api: str
    line: int | None
    parent: Run | None
    due: float
    #: Scheduled by the snippet itself, not by Node's own plumbing.
    direct: bool
    t: float = 0.0
    #: User code ran here: it created or queued something from a user frame.
    schedules_user: bool = False
    #: A user frame was on the stack when something was made here (a listener of the snippet ran:
    #: a socket's 'timeout' listener calling destroy()).
    ran_user_code: bool = False
    printed: bool = False
    first_key: EventKey | None = None
    #: For a run due at a time from outside the snippet's schedule (Node's own timer, a message
    #: from another thread): which run of which resource it is.
    outside_time: RunKey | None = None
    #: The loop turn it ran in, on its thread (see looplens.trace).
    turn: int = 0
    #: Where in its turn it ran: the rank of its loop phase (PHASE_RANK), a nextTick or
    #: microtask taking that of the callback it ran after.
    phase_rank: int = 0
    #: What the before record of a macrotask says: libuv's loop count, when it started (µs) and
    #: the thread's run-queue delay then (µs).
    loop_count: int | None = None
    started_us: int | None = None
    started_rd: int | None = None
    #: The thread sat waiting (for I/O, a timer, a message) just before it started.
    waited: bool = False
    #: The resource it is a run of, its type, when that run was armed (the resource made, or
    #: its previous run started) and the run-queue delay then; for a timer, when it was due.
    resource_key: tuple[str, int] | None = None
    resource_type: str = ""
    armed_us: int | None = None
    armed_rd: int | None = None
    due_us: float | None = None
    #: What it sent through sockets and pipes (see Send): what may make a socket readable.
    sends: list[Send] = field(default_factory=list)
    #: For a run of a TCP socket: its ports (local, remote), once the tracer knew them.
    ports: tuple[int, int] | None = None


@dataclass(eq=False, slots=True)
class Resource:
    """An async resource of the snippet's thread, as its init record made it."""

    type: str
    #: Scheduled by the snippet itself (the timer of its setTimeout, its .then).
    direct: bool
    #: For a timer: its delay, as the init record says it.
    delay: float | None
    #: A user frame was on the stack when it was made.
    made_in_user_frame: bool
    origin: Run
    line: int | None
    api: str
    #: When it was created; for a timer, when its delay last started (creation or refresh()).
    clock: float
    #: How many runs it had, and the latest.
    run_count: int = 0
    last_run: Run | None = None
    #: For a timer: how many runs it had when its delay last started.
    runs_before: int = 0
    #: Queued, not run yet (timers, immediates, ticks, I/O: from their creation on).
    pending: Run | None = None
    #: For a promise reaction: the run, record index and clock of the last resolve of its parent
    #: (or of its own creation, if the parent was already resolved).
    queued_by: Run | None = None
    queued_index: int = 0
    queued_clock: float = 0.0
    #: For a promise: the callback that resolved or rejected it.
    settled_by: Run | None = None
    #: When it was made, or last started a run (µs), and the run-queue delay then: when its
    #: next run was armed. For a timer, when its delay last started (µs).
    armed_us: int | None = None
    armed_rd: int | None = None
    timer_start_us: int | None = None

    @property
    def transparent(self) -> bool:
        """One of Node's own promise jobs: what runs in it belongs to whoever queued it."""
        return self.type in PROMISE_TYPES and not self.direct

    def queued(self, by: Run, index: int, clock: float) -> None:
        """A promise reaction was queued (so far as is known) by run `by`, at record `index`."""
        self.queued_by, self.queued_index, self.queued_clock = by, index, clock

    def ran(self, run: Run) -> None:
        self.run_count += 1
        self.last_run = run

    def due(self, clock: float) -> float:
        """When its next run is due, `clock` being its thread's clock now."""
        if self.type == "Timeout":
            # Node runs a timer no sooner than 1 ms (setTimeout(f, 0) is setTimeout(f, 1)); the
            # k-th run of an interval is due k delays after it was set.
            delay = max(1.0, self.delay or 1.0)
            return self.clock + delay * (self.run_count - self.runs_before + 1)
        return clock


#: (sort key, run, kind, logical time, printed line index), as assembly.assemble takes them.
PendingEvent = tuple[EventKey, Run, EventKind, float, int | None]


class Timeline:
    """Every run made while reading, in the order they were made, and the events they had."""

    def __init__(self) -> None:
        self.runs: list[Run] = []
        self.events: list[PendingEvent] = []
        self.sequence = 0

    def event(self, index: int, kind: EventKind, run: Run, t: float, phase: int = 1) -> None:
        self.sequence += 1
        key = (index, phase, self.sequence)
        if run.first_key is None or key < run.first_key:
            run.first_key = key
        self.events.append((key, run, kind, t, None))

    def ran(self, index: int, run: Run, t: float) -> Run:
        """A run made as it starts."""
        self.runs.append(run)
        self.event(index, "run", run, t)
        return run

    def printed(self, index: int, run: Run, t: float, line_index: int) -> None:
        """Printed line `line_index`, whose first byte `run` wrote at record `index`."""
        run.printed = True
        self.sequence += 1
        self.events.append(((index, 1, self.sequence), run, "print", t, line_index))
