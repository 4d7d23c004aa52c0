"""Turn the raw records of the Node preload (tracers/node/preload.cjs) into a Trace.

The preload writes facts as they happen, one JSON object a line, each with its thread (``th``):

- ``thread``: the preload started in a thread; ``main`` is the file that thread runs.
- ``init``: an async resource was created (``id``, ``type``, ``trigger``, ``exec`` = the resource
  running at that moment); ``line`` (and ``file`` if not the thread's main file) and ``api`` when a
  user frame is on the stack; ``direct`` when the resource is the user's own callback (the timer of
  a setTimeout, the reaction of a .then), not a helper Node made on the way; ``delay`` for timers.
- ``before`` / ``after``: a resource's callback starts / ends. ``close``: the running callback is a
  handle's close callback. ``resolve``: a promise was resolved while ``exec`` ran.
- ``print``: a write to ``stream`` of ``text`` (``bytes`` long) while ``exec`` ran; ``relay`` marks
  the main thread writing a worker's output, ``direct`` a write straight to the descriptor
  (fs.writeSync(1, …)); ``type`` is the running resource's type once records
  are ``truncated`` (the resource cap was reached). ``died``: an uncaught error while ``exec`` ran
  (for an unhandled rejection, ``exec`` is the rejected promise).
- ``refresh``: ``timeout.refresh()`` restarted timer ``id``.
- ``us`` (on thread, before, after, print and died records): microseconds on the monotonic clock, to
  place output that no record accounts for (see looplens.tracing.output).
- ``thread`` of a worker has ``parent``: the thread and id of the WORKER resource that made it.
- ``listeners`` (init, resolve, print and died records): the code ran from listeners of process
  events that Node emitted itself, innermost first: 'beforeExit' and 'exit' after the loop ended
  (``exec`` 0), 'unhandledRejection' from the step where Node reports rejections (``exec`` is the
  rejected promise), 'uncaughtException' right after a callback threw (``exec`` is that callback),
  'exit' from process.exit() or after an uncaught error. ``rejections``: the outermost one ran from
  the rejections step (an 'uncaughtException' or 'exit' listener after a rejection nobody handled).

Each run of a resource is one callback, except Node's own promise jobs (not ``direct``): the ES
module loader runs the module body in one, so what runs in them belongs to whoever queued them.
A run of a resource made before the preload loaded (a worker's parentPort) is a poll callback.
queueMicrotask callbacks have negative ids: the preload numbers them itself.

Some runs move the clock to a time that the snippet's own schedule does not give: Node's own
timers (a timer the snippet did not set with setTimeout or setInterval: the one-second cache of an
HTTP server's Date header, fetch's internal clock tick), which fire when real time says so, and
messages from other threads, due at the sender's clock, which includes Node's own messages
between a worker and its parent (how many of them come before a timer is a race). Such a run
stays out of the trace and moves no clock, unless something the snippet sees comes of it: a line
it prints, a callback of the snippet it queues (directly or through Node's plumbing:
AbortSignal.timeout aborting a fetch, timers/promises resolving an await, a worker's message
reaching its 'message' listener), code of the snippet that makes something (socket.setTimeout's
'timeout' listener calling destroy()). A listener that only sets a variable goes unseen. Whether
something comes of a run is known only once the records are read to the end, so they are read
twice (see build_trace): the first reading finds the runs that nothing came of, the second lets
them move no clock.

Logical time is per thread. A worker's clock starts at its creator's clock when the Worker was
made. A message crossing threads cannot be handled before it was sent: a message port's callback
(or a worker's exit) is due no sooner than the latest clock of the other threads when it runs.
That is the sender's clock at postMessage or later (the preload does not see postMessage
itself); since each clock stays behind real time, it never puts a line before something that
really happened first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from looplens.trace import MAIN_THREAD, EventKind, Stream, Trace
from looplens.tracing.assembly import assemble
from looplens.tracing.output import Arrivals, OutputBuilder, Piece

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
#: Queues whose callbacks a reader schedules directly, and so wants to see even when silent.
DIRECT_QUEUES = frozenset({"timers", "check", "nextTick", "microtask"})

Record = Mapping[str, Any]
#: One run of a resource: (thread, resource id, how many runs it had before).
RunKey = tuple[str, int, int]
#: Events sort by (record index, phase, sequence). A promise reaction is known to be queued only
#: when it runs, so its "queued" event goes back to the record that queued it, in phase 0.
EventKey = tuple[int, int, int]


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


@dataclass(eq=False, slots=True)
class Resource:
    record: Record
    origin: Run
    line: int | None
    api: str
    #: When it was created; for a timer, when its delay last started (creation or refresh()).
    clock: float
    runs: list[Run] = field(default_factory=list)
    #: For a timer: how many runs it had when its delay last started.
    runs_before: int = 0
    #: Queued, not run yet (timers, immediates, ticks, I/O: from their creation on).
    pending: Run | None = None
    #: For a promise reaction: the record, run and time of the last resolve of its parent (or of
    #: its own creation, if the parent was already resolved).
    queued_at: tuple[int, Run, float] | None = None
    #: For a promise: the callback that resolved or rejected it.
    settled_by: Run | None = None

    @property
    def type(self) -> str:
        return str(self.record["type"])

    @property
    def direct(self) -> bool:
        """Scheduled by the snippet itself (the timer of its setTimeout, its .then)."""
        return bool(self.record.get("direct"))

    @property
    def transparent(self) -> bool:
        return self.type in PROMISE_TYPES and not self.direct


def build_trace(
    records: Sequence[Record],
    output: dict[Stream, bytes],
    exit_code: int,
    runtime: str,
    arrivals: dict[Stream, Arrivals] | None = None,
) -> Trace:
    """The Trace of a run's records, without the runs of Node's own timers that nothing the
    snippet sees came of (see the module's docstring)."""
    first = TraceBuilder()
    for index, record in enumerate(records):
        first.feed(index, record)
    trace = first.finish(output, exit_code, runtime, arrivals)
    silent = first.unseen_outside_time_runs()
    if not silent:
        return trace
    builder = TraceBuilder(silent_runs=silent)
    for index, record in enumerate(records):
        builder.feed(index, record)
    return builder.finish(output, exit_code, runtime, arrivals)


class TraceBuilder:
    def __init__(self, silent_runs: frozenset[RunKey] = frozenset()) -> None:
        #: Runs due at a time from outside the snippet's schedule that nothing the snippet sees
        #: came of: they move no clock.
        self.silent_runs = silent_runs
        #: How many runs each resource made before the preload loaded had.
        self.unknown_runs: dict[tuple[str, int], int] = defaultdict(int)
        self.snippet: str | None = None
        self.thread_files: dict[str, str] = {}
        self.mains: dict[str, Run] = {}
        self.clocks: dict[str, float] = defaultdict(float)
        self.resources: dict[tuple[str, int], Resource] = {}
        self.resolved: set[tuple[str, int]] = set()
        self.children: dict[tuple[str, int], list[Resource]] = defaultdict(list)
        self.synthetic: dict[tuple[str, int], Run] = {}
        #: The current run of each resource made before the preload loaded.
        self.unknown: dict[tuple[str, int], Run] = {}
        #: The listeners of process events running now, by thread, context and events (outermost
        #: first), until the next callback starts or ends.
        self.listener_runs: dict[tuple[str, int, bool, tuple[str, ...]], Run] = {}
        self.scripts_ended: set[str] = set()
        self.runs: list[Run] = []
        self.events: list[tuple[EventKey, Run, EventKind, float, int | None]] = []
        self.output: OutputBuilder[Run] = OutputBuilder()
        self.truncated = False
        self.died: Run | None = None
        #: The callbacks running now, innermost last: the one that was running if Node dies
        #: without an uncaught error (a fatal error, out of memory) is the last one left.
        self.running: dict[str, list[Run]] = defaultdict(list)
        self.sequence = 0
        self.end = 0

    def event(self, index: int, kind: EventKind, run: Run, t: float, phase: int = 1) -> None:
        self.sequence += 1
        key = (index, phase, self.sequence)
        if run.first_key is None or key < run.first_key:
            run.first_key = key
        self.events.append((key, run, kind, t, None))

    def main_run(self, thread: str, index: int = -1, start: float = 0.0) -> Run:
        if thread not in self.mains:
            main = Run(thread, "sync", "main script", None, None, start, direct=True, t=start)
            self.mains[thread] = main
            self.clocks[thread] = max(self.clocks[thread], start)
            self.runs.append(main)
            self.event(index, "run", main, start)
        return self.mains[thread]

    def current(
        self, thread: str, exec_id: int, index: int = -1, record: Record | None = None
    ) -> Run:
        """The callback that code running in resource `exec_id` belongs to."""
        if record is not None and record.get("listeners"):
            return self.listener_run(thread, exec_id, index, record)
        resource = self.resources.get((thread, exec_id))
        if resource is None:
            # A resource made before the preload ran: its current run, or else the script (a
            # worker's script runs in such a resource).
            key = (thread, exec_id)
            return self.unknown.get(key) or self.synthetic.get(key) or self.main_run(thread)
        if resource.runs:
            return resource.runs[-1]
        if resource.transparent and resource.queued_at is not None:
            return resource.queued_at[1]
        if resource.type == "PROMISE" and resource.settled_by is not None:
            # A promise that runs nothing itself is current only while Node handles its
            # unhandled rejection: with no listener, Node's report of it belongs to the callback
            # that rejected it.
            return resource.settled_by
        return resource.origin

    def listener_run(self, thread: str, exec_id: int, index: int, record: Record) -> Run:
        """The listeners of a process event that Node emitted itself (see `listeners` above).

        Each event's listeners are one callback, a child of the one they ran from: for listeners
        that Node calls from the rejections step, the callback that rejected the promise (their
        queue is "nextTick": Node takes that step in the function that drains the nextTick queue,
        once it and the microtask queue are empty); for 'beforeExit' and 'exit' after the loop,
        the main script, with its queue ("sync": they run from no queue of the vocabulary); else
        the callback they ran in, with its queue. Their clock is the moment they
        run, so that time never goes back.
        """
        events = tuple(str(event) for event in reversed(record["listeners"]))
        rejections = bool(record.get("rejections"))
        line: int | None = None
        run = self.main_run(thread) if exec_id == 0 else self.current(thread, exec_id, index)
        queue = "nextTick" if rejections else "sync" if exec_id == 0 else run.queue
        promise = self.resources.get((thread, exec_id))
        if rejections and promise is not None and promise.type == "PROMISE":
            # The line of the promise whose rejection Node reports.
            line = promise.line
        for depth, event in enumerate(events, start=1):
            key = (thread, exec_id, rejections, events[:depth])
            listener = self.listener_runs.get(key)
            if listener is None:
                clock = self.clocks[thread]
                api = f"process.on('{event}')"
                listener = Run(thread, queue, api, line, run, clock, direct=False, t=clock)
                self.listener_runs[key] = listener
                self.runs.append(listener)
                self.event(index, "run", listener, clock)
                self.output.started(listener, clock, index, _us(record))
            run, line = listener, None
        return run

    def end_listeners(self, thread: str, us: int | None) -> None:
        """A callback starts or ends: the listeners that ran before it have returned."""
        for key in [key for key in self.listener_runs if key[0] == thread]:
            self.output.ended(self.listener_runs.pop(key), us)

    def other_clocks(self, thread: str) -> float:
        """The latest clock of the other threads: a message from them was sent by then."""
        return max((t for name, t in self.clocks.items() if name != thread), default=0.0)

    def feed(self, index: int, record: Record) -> None:
        thread = str(record["th"])
        kind = record["k"]
        self.end = index + 1
        if kind == "thread":
            self.thread_files[thread] = str(record["main"])
            if thread == MAIN_THREAD:
                self.snippet = self.thread_files[thread]
            main = self.main_run(thread, index, self.start_clock(record))
            self.output.started(main, main.t, index, _us(record))
        elif kind == "init":
            self.init(index, thread, record)
        elif kind == "before":
            self.end_listeners(thread, _us(record))
            self.before(index, thread, int(record["id"]))
            run = self.current(thread, int(record["id"]))
            if thread not in self.scripts_ended and run is not self.mains.get(thread):
                # The script has ended once anything else runs.
                self.scripts_ended.add(thread)
                self.output.ended(self.main_run(thread), _us(record))
            self.running[thread].append(run)
            self.output.started(run, run.t, index, _us(record))
        elif kind == "after":
            self.end_listeners(thread, _us(record))
            if self.running[thread]:
                self.output.ended(self.running[thread].pop(), _us(record))
        elif kind == "resolve":
            self.resolve(index, thread, record)
        elif kind == "refresh":
            self.refresh(index, thread, record)
        elif kind == "close":
            closing = self.resources.get((thread, int(record["id"])))
            if closing is not None and closing.runs:
                closing.runs[-1].queue = "close"
        elif kind == "print":
            self.print(index, thread, record)
        elif kind == "died":
            # For an unhandled rejection, exec is the rejected promise (see current()); a
            # listener of a process event may have thrown.
            self.died = self.current(thread, int(record["exec"]), index, record)
            self.output.death(self.died, self.died.t, index)
        elif kind == "truncated":
            self.truncated = True

    def start_clock(self, record: Record) -> float:
        """A worker's clock starts at its creator's clock when the Worker was made."""
        parent = record.get("parent")
        if not isinstance(parent, list) or len(parent) != 2:
            return 0.0
        creator = self.resources.get((str(parent[0]), int(parent[1])))
        return creator.clock if creator is not None else self.clocks[str(parent[0])]

    def init(self, index: int, thread: str, record: Record) -> None:
        # Outside any callback (exec 0: a connection accepted from C++), the trigger is the cause.
        exec_id = int(record["exec"]) or int(record["trigger"])
        origin = self.current(thread, exec_id, index, record)
        kind = str(record["type"])
        file = record.get("file", self.thread_files.get(thread))
        line = int(record["line"]) if "line" in record and file == self.snippet else None
        api = record.get("api") or ("await" if kind == "PROMISE" else kind)
        job = self.resources.get((thread, exec_id))
        if "line" in record:
            origin.ran_user_code = True
        if record.get("direct"):
            origin.schedules_user = True
        elif "line" not in record and job is not None and job.transparent and "line" in job.record:
            # Made in one of Node's promise jobs (they run as part of the callback that queued
            # them): the user call that made that job started it. The nextTick that routes an
            # async listener's rejection to 'error' comes from the .then that emit() put on the
            # listener's promise, not from the code that rejected it.
            line, api = job.line, job.api
        elif "line" not in record and origin is not self.mains.get(thread):
            # Node's plumbing carries on the user call that started it (fs.readFile's reads).
            line, api = origin.line, origin.api
        clock = self.clocks[thread]
        resource = Resource(record, origin, line, str(api), clock)
        self.resources[thread, int(record["id"])] = resource
        if kind in PROMISE_TYPES:
            parent = (thread, int(record["trigger"]))
            self.children[parent].append(resource)
            if kind == "Microtask" or parent in self.resolved or parent not in self.resources:
                resource.queued_at = (index, origin, clock)
        else:
            resource.pending = self.new_run(resource, origin, self.due(resource))
            self.event(index, "queued", resource.pending, clock)

    def resolve(self, index: int, thread: str, record: Record) -> None:
        key = (thread, int(record["id"]))
        self.resolved.add(key)
        resolver = self.current(thread, int(record["exec"]), index, record)
        promise = self.resources.get(key)
        if promise is not None:
            promise.settled_by = resolver
        for child in self.children.get(key, ()):
            if not child.runs:
                child.queued_at = (index, resolver, self.clocks[thread])

    def due(self, resource: Resource) -> float:
        if resource.type == "Timeout":
            # Node runs a timer no sooner than 1 ms (setTimeout(f, 0) is setTimeout(f, 1)); the
            # k-th run of an interval is due k delays after it was set.
            delay = max(1.0, float(resource.record.get("delay") or 1))
            return resource.clock + delay * (len(resource.runs) - resource.runs_before + 1)
        return self.clocks[resource.origin.thread]

    def refresh(self, index: int, thread: str, record: Record) -> None:
        """timeout.refresh(): the timer's delay starts again from now."""
        resource = self.resources.get((thread, int(record["id"])))
        if resource is None or resource.type != "Timeout":
            return
        resource.clock = self.clocks[thread]
        resource.runs_before = len(resource.runs)
        if resource.pending is not None:
            resource.pending.due = self.due(resource)

    def new_run(self, resource: Resource, parent: Run, due: float) -> Run:
        queue = QUEUE_BY_TYPE.get(resource.type, IO_QUEUE)
        run = Run(parent.thread, queue, resource.api, resource.line, parent, due, resource.direct)
        if resource.direct:
            parent.schedules_user = True
        self.runs.append(run)
        return run

    def before(self, index: int, thread: str, resource_id: int) -> None:
        resource = self.resources.get((thread, resource_id))
        if resource is None:
            self.unknown_run(index, thread, resource_id)
            return
        if resource.transparent:
            return
        if resource.type in PROMISE_TYPES:
            if resource.runs:
                # The job that adopts a returned promise (`return p` in a .then) runs under the
                # reaction's id: it is part of that reaction, not a callback of its own.
                return
            queued_at = resource.queued_at or (index, resource.origin, self.clocks[thread])
            queued_index, queuer, clock = queued_at
            run = self.new_run(resource, queuer, clock)
            self.event(queued_index, "queued", run, clock, phase=0)
        elif resource.pending is not None:
            run, resource.pending = resource.pending, None
        else:
            # A repeated run (an interval, a socket's next read) is queued again as it comes, on
            # behalf of the code that set the resource up. A message port's next message is due
            # when it was sent (below), not when the receiver got round to it: that depends on
            # how many of Node's own messages (a worker's 'online') came before, a race.
            due = resource.clock if resource.type in CROSS_THREAD_TYPES else self.due(resource)
            run = self.new_run(resource, resource.origin, due)
            self.event(index, "queued", run, self.clocks[thread])
        if resource.type in CROSS_THREAD_TYPES:
            run.due = max(run.due, self.other_clocks(thread))
        if resource.type in CROSS_THREAD_TYPES or (
            resource.type == "Timeout" and not resource.direct
        ):
            run.outside_time = (thread, resource_id, len(resource.runs))
        resource.runs.append(run)
        run.t = max(self.clocks[thread], run.due)
        if run.outside_time not in self.silent_runs:
            self.clocks[thread] = run.t
        self.event(index, "run", run, run.t)

    def unknown_run(self, index: int, thread: str, resource_id: int) -> None:
        """A run of a resource made before the preload loaded: in a worker, a message on its
        parentPort (or one of Node's own ports); I/O, in the poll phase, like any message."""
        api = "bootstrap" if thread == MAIN_THREAD else "parentPort"
        main = self.main_run(thread)
        due = max(self.clocks[thread], self.other_clocks(thread))
        run = Run(thread, IO_QUEUE, api, None, main, due, direct=False, t=due)
        run.outside_time = (thread, resource_id, self.unknown_runs[thread, resource_id])
        self.unknown_runs[thread, resource_id] += 1
        if run.outside_time not in self.silent_runs:
            self.clocks[thread] = due
        self.unknown[thread, resource_id] = run
        self.runs.append(run)
        self.event(index, "run", run, due)

    def print(self, index: int, thread: str, record: Record) -> None:
        exec_id = int(record["exec"])
        run = self.current(thread, exec_id, index, record)
        if record.get("type") and (thread, exec_id) not in self.resources:
            run = self.synthetic_run(index, thread, exec_id, str(record["type"]))
        stream: Stream = "stderr" if record["stream"] == "stderr" else "stdout"
        text = str(record["text"])
        piece = Piece(stream, int(record["bytes"]), text, run, run.t, index, _us(record))
        if record.get("relay"):
            self.output.relay(piece, None if thread == MAIN_THREAD else thread)
        elif thread != MAIN_THREAD and not record.get("direct"):
            # Its console output reaches the real stream when the main thread relays it; a
            # direct write to the descriptor (fs.writeSync(1, …)) reaches it right away.
            self.output.worker_write(thread, piece)
        else:
            self.output.write(piece)

    def synthetic_run(self, index: int, thread: str, exec_id: int, kind: str) -> Run:
        """A callback past the resource cap: only its queue is known."""
        if (thread, exec_id) not in self.synthetic:
            queue = QUEUE_BY_TYPE.get(kind, IO_QUEUE)
            clock = self.clocks[thread]
            run = Run(thread, queue, kind, None, self.main_run(thread), clock, False, t=clock)
            self.synthetic[thread, exec_id] = run
            self.runs.append(run)
            self.event(index, "run", run, clock)
        return self.synthetic[thread, exec_id]

    def finish(
        self,
        output: dict[Stream, bytes],
        exit_code: int,
        runtime: str,
        arrivals: dict[Stream, Arrivals] | None = None,
    ) -> Trace:
        # Bytes that no write accounts for after the last one: a callback still running when Node
        # ended without an uncaught error (a fatal error, out of memory) printed them.
        running = self.running[MAIN_THREAD]
        last = running[-1] if running and self.died is None else None
        main = self.main_run(MAIN_THREAD)
        found = self.output.lines(
            output,
            last,
            last.t if last else 0.0,
            self.end,
            first_owner=(main, main.t),
            arrivals=arrivals,
        )
        for line_index, line in enumerate(found):
            line.owner.printed = True
            self.sequence += 1
            key = (line.index, 1, self.sequence)
            self.events.append((key, line.owner, "print", line.t, line_index))
        kept = [run for run in self.runs if self.keep(run)]
        kept.sort(key=lambda run: (run is not self.mains[MAIN_THREAD], run.first_key or (0, 0, 0)))
        return assemble(
            "javascript", runtime, exit_code, kept, found, self.events, truncated=self.truncated
        )

    def keep(self, run: Run) -> bool:
        """Only callbacks that tell the reader something: user code ran there, or it printed."""
        if run in self.mains.values() or run.printed or run.schedules_user:
            return True
        return run.direct and run.queue in DIRECT_QUEUES

    def unseen_outside_time_runs(self) -> frozenset[RunKey]:
        """After finish(): the runs due at a time from outside the snippet's schedule in which no
        code of the snippet ran, and that no kept callback descends from."""
        seen: set[RunKey] = set()
        # Runs whose ancestors are already counted: a long chain is walked once, not once a link.
        walked: set[int] = set()
        for run in self.runs:
            if not (self.keep(run) or run.ran_user_code):
                continue
            ancestor: Run | None = run
            while ancestor is not None and id(ancestor) not in walked:
                walked.add(id(ancestor))
                if ancestor.outside_time is not None:
                    seen.add(ancestor.outside_time)
                ancestor = ancestor.parent
        return frozenset(
            run.outside_time
            for run in self.runs
            if run.outside_time is not None and run.outside_time not in seen
        )


def _us(record: Record) -> int | None:
    """When a record was made, in microseconds on the monotonic clock, if it says."""
    us = record.get("us")
    return int(us) if isinstance(us, int | float) else None
