"""The resources of a Node run and their runs: when each is queued, due and run.

Logical time is per thread. A worker's clock starts at its creator's clock when the Worker was
made. A message crossing threads cannot be handled before it was sent: a message port's callback
(or a worker's exit) is due no sooner than the latest clock of the other threads when it runs.
That is the sender's clock at postMessage or later (the preload does not see postMessage
itself); since each clock stays behind real time, it never puts a line before something that
really happened first.
"""

from __future__ import annotations

from collections import defaultdict

from looplens.trace import MAIN_THREAD
from looplens.tracing.node.record_types import InitRecord, RefreshRecord, ResolveRecord
from looplens.tracing.node.runs import (
    CONNECTING_TYPES,
    CROSS_THREAD_TYPES,
    IO_QUEUE,
    PROMISE_TYPES,
    Resource,
    Run,
    RunKey,
    Send,
    Timeline,
    queue_of,
)


class Schedule:
    """Every resource and thread clock of one reading, and the runs it makes of them."""

    def __init__(self, timeline: Timeline, silent_runs: frozenset[RunKey]) -> None:
        self.timeline = timeline
        #: Runs due at a time from outside the snippet's schedule that nothing the snippet sees
        #: came of: they move no clock.
        self.silent_runs = silent_runs
        self.clocks: dict[str, float] = defaultdict(float)
        self.mains: dict[str, Run] = {}
        self.resources: dict[tuple[str, int], Resource] = {}
        self.resolved: set[tuple[str, int]] = set()
        self.children: dict[tuple[str, int], list[Resource]] = defaultdict(list)
        #: The current run of each resource made before the preload loaded, and how many runs
        #: each had.
        self.unknown: dict[tuple[str, int], Run] = {}
        self.unknown_runs: dict[tuple[str, int], int] = defaultdict(int)
        #: The callbacks past the resource cap, by the resource they ran in.
        self.synthetic: dict[tuple[str, int], Run] = {}

    def main_run(self, thread: str, index: int = -1, start: float = 0.0) -> Run:
        if thread not in self.mains:
            main = Run(thread, "sync", "main script", None, None, start, direct=True, t=start)
            self.mains[thread] = main
            self.clocks[thread] = max(self.clocks[thread], start)
            self.timeline.ran(index, main, start)
        return self.mains[thread]

    def running_in(self, thread: str, exec_id: int) -> Run:
        """The callback that code running in resource `exec_id` belongs to, unless it ran from
        listeners of a process event."""
        resource = self.resources.get((thread, exec_id))
        if resource is None:
            # A resource made before the preload ran: its current run, or else the script (a
            # worker's script runs in such a resource).
            key = (thread, exec_id)
            return self.unknown.get(key) or self.synthetic.get(key) or self.main_run(thread)
        if resource.last_run is not None:
            return resource.last_run
        if resource.transparent and resource.queued_by is not None:
            return resource.queued_by
        if resource.type == "PROMISE" and resource.settled_by is not None:
            # A promise that runs nothing itself is current only while Node handles its
            # unhandled rejection: with no listener, Node's report of it belongs to the callback
            # that rejected it.
            return resource.settled_by
        return resource.origin

    def other_clocks(self, thread: str) -> float:
        """The latest clock of the other threads: a message from them was sent by then."""
        return max((t for name, t in self.clocks.items() if name != thread), default=0.0)

    def start_clock(self, made_by: tuple[str, int] | None) -> float:
        """A worker's clock starts at its creator's clock when the Worker was made."""
        if made_by is None:
            return 0.0
        creator = self.resources.get(made_by)
        return creator.clock if creator is not None else self.clocks[made_by[0]]

    def created(
        self, index: int, record: InitRecord, origin: Run, line: int | None, api: str
    ) -> None:
        """Run `origin` made the resource of `record`, from `line` of the snippet with `api`."""
        thread = record.thread
        clock = self.clocks[thread]
        made_in_user_frame = record.line is not None
        resource = Resource(
            record.type, record.direct, record.delay, made_in_user_frame, origin, line, api, clock
        )
        resource.armed_us = resource.timer_start_us = record.us
        resource.armed_rd = record.rd
        if record.type in CONNECTING_TYPES and record.us is not None:
            origin.sends.append(Send(record.us, "connect"))
        self.resources[thread, record.id] = resource
        if record.type in PROMISE_TYPES:
            parent = (thread, record.trigger_id)
            self.children[parent].append(resource)
            if (
                record.type == "Microtask"
                or parent in self.resolved
                or parent not in self.resources
            ):
                resource.queued(origin, index, clock)
        else:
            due = resource.due(self.clocks[origin.thread])
            resource.pending = self.new_run(resource, origin, due)
            self.timeline.event(index, "queued", resource.pending, clock)

    def resolved_by(self, index: int, record: ResolveRecord, resolver: Run) -> None:
        """Run `resolver` resolved the promise of `record`: its reactions are queued now."""
        key = (record.thread, record.id)
        self.resolved.add(key)
        promise = self.resources.get(key)
        if promise is not None:
            promise.settled_by = resolver
        for child in self.children.get(key, ()):
            if child.last_run is None:
                child.queued(resolver, index, self.clocks[record.thread])

    def refreshed(self, record: RefreshRecord) -> None:
        """timeout.refresh(): the timer's delay starts again from now."""
        resource = self.resources.get((record.thread, record.id))
        if resource is None or resource.type != "Timeout":
            return
        resource.clock = self.clocks[record.thread]
        resource.runs_before = resource.run_count
        resource.timer_start_us = record.us
        if resource.pending is not None:
            resource.pending.due = resource.due(self.clocks[resource.origin.thread])

    def new_run(self, resource: Resource, parent: Run, due: float) -> Run:
        queue = queue_of(resource.type)
        run = Run(parent.thread, queue, resource.api, resource.line, parent, due, resource.direct)
        if resource.direct:
            parent.schedules_user = True
        self.timeline.runs.append(run)
        return run

    def run_starts(self, index: int, thread: str, resource_id: int) -> None:
        """A run of resource `resource_id` starts: when it was queued, and when it runs."""
        resource = self.resources.get((thread, resource_id))
        if resource is None:
            self.unknown_run(index, thread, resource_id)
            return
        if resource.transparent:
            return
        if resource.type in PROMISE_TYPES:
            if resource.last_run is not None:
                # The job that adopts a returned promise (`return p` in a .then) runs under the
                # reaction's id: it is part of that reaction, not a callback of its own.
                return
            if resource.queued_by is not None:
                queuer, queued_index = resource.queued_by, resource.queued_index
                clock = resource.queued_clock
            else:
                queuer, queued_index, clock = resource.origin, index, self.clocks[thread]
            run = self.new_run(resource, queuer, clock)
            self.timeline.event(queued_index, "queued", run, clock, phase=0)
        elif resource.pending is not None:
            run, resource.pending = resource.pending, None
        else:
            # A repeated run (an interval, a socket's next read) is queued again as it comes, on
            # behalf of the code that set the resource up. A message port's next message is due
            # when it was sent (below), not when the receiver got round to it: that depends on
            # how many of Node's own messages (a worker's 'online') came before, a race.
            if resource.type in CROSS_THREAD_TYPES:
                due = resource.clock
            else:
                due = resource.due(self.clocks[resource.origin.thread])
            run = self.new_run(resource, resource.origin, due)
            self.timeline.event(index, "queued", run, self.clocks[thread])
        if resource.type in CROSS_THREAD_TYPES:
            run.due = max(run.due, self.other_clocks(thread))
        if resource.type in CROSS_THREAD_TYPES or (
            resource.type == "Timeout" and not resource.direct
        ):
            run.outside_time = (thread, resource_id, resource.run_count)
        resource.ran(run)
        run.t = max(self.clocks[thread], run.due)
        if run.outside_time not in self.silent_runs:
            self.clocks[thread] = run.t
        self.timeline.event(index, "run", run, run.t)

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
        self.timeline.ran(index, run, due)

    def synthetic_run(self, index: int, thread: str, exec_id: int, kind: str) -> Run:
        """A callback past the resource cap: only its queue is known."""
        if (thread, exec_id) not in self.synthetic:
            clock = self.clocks[thread]
            main = self.main_run(thread)
            run = Run(thread, queue_of(kind), kind, None, main, clock, False, t=clock)
            self.synthetic[thread, exec_id] = run
            self.timeline.ran(index, run, clock)
        return self.synthetic[thread, exec_id]
