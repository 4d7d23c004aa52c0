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
  the main thread writing a worker's output; ``type`` is the running resource's type once records
  are ``truncated`` (the resource cap was reached). ``died``: an uncaught error while ``exec`` ran.

Each run of a resource is one callback, except Node's own promise jobs (not ``direct``): the ES
module loader runs the module body in one, so what runs in them belongs to whoever queued them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from looplens.node_output import OutputBuilder, Piece
from looplens.trace import MAIN_THREAD, Callback, Event, EventKind, PrintedLine, Stream, Trace

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
#: Queues whose callbacks a reader schedules directly, and so wants to see even when silent.
DIRECT_QUEUES = frozenset({"timers", "check", "nextTick", "microtask"})

Record = Mapping[str, Any]
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
    printed: bool = False
    first_key: EventKey | None = None


@dataclass(eq=False, slots=True)
class Resource:
    record: Record
    origin: Run
    line: int | None
    api: str
    clock: float
    runs: list[Run] = field(default_factory=list)
    #: Queued, not run yet (timers, immediates, ticks, I/O: from their creation on).
    pending: Run | None = None
    #: For a promise reaction: the record, run and time of the last resolve of its parent (or of
    #: its own creation, if the parent was already resolved).
    queued_at: tuple[int, Run, float] | None = None

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


class TraceBuilder:
    def __init__(self) -> None:
        self.snippet: str | None = None
        self.thread_files: dict[str, str] = {}
        self.mains: dict[str, Run] = {}
        self.clocks: dict[str, float] = defaultdict(float)
        self.resources: dict[tuple[str, int], Resource] = {}
        self.resolved: set[tuple[str, int]] = set()
        self.children: dict[tuple[str, int], list[Resource]] = defaultdict(list)
        self.synthetic: dict[tuple[str, int], Run] = {}
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

    def main_run(self, thread: str, index: int = -1) -> Run:
        if thread not in self.mains:
            main = Run(thread, "sync", "main script", None, None, 0.0, direct=True)
            self.mains[thread] = main
            self.runs.append(main)
            self.event(index, "run", main, 0.0)
        return self.mains[thread]

    def current(self, thread: str, exec_id: int) -> Run:
        """The callback that code running in resource `exec_id` belongs to."""
        resource = self.resources.get((thread, exec_id))
        if resource is None:
            # Resources made before the preload ran (bootstrap, a worker's start) run the script.
            return self.synthetic.get((thread, exec_id)) or self.main_run(thread)
        if resource.runs:
            return resource.runs[-1]
        if resource.transparent and resource.queued_at is not None:
            return resource.queued_at[1]
        return resource.origin

    def feed(self, index: int, record: Record) -> None:
        thread = str(record["th"])
        kind = record["k"]
        self.end = index + 1
        if kind == "thread":
            self.thread_files[thread] = str(record["main"])
            if thread == MAIN_THREAD:
                self.snippet = self.thread_files[thread]
            self.main_run(thread, index)
        elif kind == "init":
            self.init(index, thread, record)
        elif kind == "before":
            self.before(index, thread, int(record["id"]))
            self.running[thread].append(self.current(thread, int(record["id"])))
        elif kind == "after":
            if self.running[thread]:
                self.running[thread].pop()
        elif kind == "resolve":
            self.resolve(index, thread, record)
        elif kind == "close":
            closing = self.resources.get((thread, int(record["id"])))
            if closing is not None and closing.runs:
                closing.runs[-1].queue = "close"
        elif kind == "print":
            self.print(index, thread, record)
        elif kind == "died":
            self.died = self.current(thread, int(record["exec"]))
        elif kind == "truncated":
            self.truncated = True

    def init(self, index: int, thread: str, record: Record) -> None:
        # Outside any callback (exec 0: a connection accepted from C++), the trigger is the cause.
        origin = self.current(thread, int(record["exec"]) or int(record["trigger"]))
        kind = str(record["type"])
        file = record.get("file", self.thread_files.get(thread))
        line = int(record["line"]) if "line" in record and file == self.snippet else None
        api = record.get("api") or ("await" if kind == "PROMISE" else kind)
        if record.get("direct"):
            origin.schedules_user = True
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
        resolver = self.current(thread, int(record["exec"]))
        for child in self.children.get(key, ()):
            if not child.runs:
                child.queued_at = (index, resolver, self.clocks[thread])

    def due(self, resource: Resource) -> float:
        if resource.type == "Timeout":
            # Node runs a timer no sooner than 1 ms (setTimeout(f, 0) is setTimeout(f, 1)); the
            # k-th run of an interval is due k delays after it was set.
            delay = max(1.0, float(resource.record.get("delay") or 1))
            return resource.clock + delay * (len(resource.runs) + 1)
        return self.clocks[resource.origin.thread]

    def new_run(self, resource: Resource, parent: Run, due: float) -> Run:
        queue = QUEUE_BY_TYPE.get(resource.type, IO_QUEUE)
        run = Run(parent.thread, queue, resource.api, resource.line, parent, due, resource.direct)
        if resource.direct:
            parent.schedules_user = True
        self.runs.append(run)
        return run

    def before(self, index: int, thread: str, resource_id: int) -> None:
        resource = self.resources.get((thread, resource_id))
        if resource is None or resource.transparent:
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
            # behalf of the code that set the resource up.
            run = self.new_run(resource, resource.origin, self.due(resource))
            self.event(index, "queued", run, self.clocks[thread])
        resource.runs.append(run)
        run.t = self.clocks[thread] = max(self.clocks[thread], run.due)
        self.event(index, "run", run, run.t)

    def print(self, index: int, thread: str, record: Record) -> None:
        exec_id = int(record["exec"])
        run = self.current(thread, exec_id)
        if record.get("type") and (thread, exec_id) not in self.resources:
            run = self.synthetic_run(index, thread, exec_id, str(record["type"]))
        stream: Stream = "stderr" if record["stream"] == "stderr" else "stdout"
        piece = Piece(stream, int(record["bytes"]), str(record["text"]), run, run.t, index)
        if thread != MAIN_THREAD:
            self.output.worker_write(thread, piece)
        elif record.get("relay"):
            self.output.relay(piece)
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

    def finish(self, output: dict[Stream, bytes], exit_code: int, runtime: str) -> Trace:
        running = self.running[MAIN_THREAD]
        died = self.died or (running[-1] if running else self.main_run(MAIN_THREAD))
        found = self.output.lines(output, died, died.t, self.end)
        for line_index, line in enumerate(found):
            line.owner.printed = True
            self.sequence += 1
            key = (line.index, 1, self.sequence)
            self.events.append((key, line.owner, "print", line.t, line_index))
        kept = [run for run in self.runs if self.keep(run)]
        kept.sort(key=lambda run: (run is not self.mains[MAIN_THREAD], run.first_key or (0, 0, 0)))
        ids = {run: number for number, run in enumerate(kept)}
        callbacks = tuple(
            Callback(
                ids[run],
                run.queue,
                run.api,
                run.line,
                self.parent_id(run, ids),
                run.due,
                run.thread,
            )
            for run in kept
        )
        lines = tuple(
            PrintedLine(
                line.text,
                line.stream,
                line.owner.queue,
                line.owner.line,
                line.t,
                ids[line.owner],
                line.owner.thread,
            )
            for line in found
        )
        events = tuple(
            Event(kind, ids[run], t, line_index)
            for _, run, kind, t, line_index in sorted(self.events, key=lambda event: event[0])
            if run in ids
        )
        return Trace(
            "javascript", runtime, exit_code, lines, callbacks, events, truncated=self.truncated
        )

    def keep(self, run: Run) -> bool:
        """Only callbacks that tell the reader something: user code ran there, or it printed."""
        if run in self.mains.values() or run.printed or run.schedules_user:
            return True
        return run.direct and run.queue in DIRECT_QUEUES

    @staticmethod
    def parent_id(run: Run, ids: dict[Run, int]) -> int | None:
        parent = run.parent
        while parent is not None and parent not in ids:
            parent = parent.parent
        return None if parent is None else ids[parent]
