"""Read the typed records of one Node run, in order, into callbacks, their events and output."""

from __future__ import annotations

from collections import defaultdict
from typing import Literal

from looplens.trace import MAIN_THREAD, Stream, Trace
from looplens.tracing.assembly import assemble
from looplens.tracing.node.listeners import ListenerRuns
from looplens.tracing.node.loop_clock import LoopClock
from looplens.tracing.node.margins import find_decisions
from looplens.tracing.node.record_types import (
    AfterRecord,
    BeforeRecord,
    CloseRecord,
    DiedRecord,
    InitRecord,
    NodeRecord,
    PortsRecord,
    PrintRecord,
    ProcessListeners,
    RefreshRecord,
    ResolveRecord,
    SendRecord,
    ThreadRecord,
    TruncatedRecord,
)
from looplens.tracing.node.runs import DIRECT_QUEUES, Resource, Run, RunKey, Send, Timeline
from looplens.tracing.node.schedule import Schedule
from looplens.tracing.node.turns import assign_turns, unsettled_turns
from looplens.tracing.output import Arrivals, OutputBuilder, Piece


class NodeRecordReader:
    """One reading of a Node run's records: feed() each in order, then finish()."""

    def __init__(self, silent_runs: frozenset[RunKey] = frozenset()) -> None:
        self.timeline = Timeline()
        self.schedule = Schedule(self.timeline, silent_runs)
        self.loop_clock = LoopClock()
        self.output: OutputBuilder[Run] = OutputBuilder()
        #: The snippet's line of each write, by its record index (see assembly.assemble).
        self.print_sites: dict[int, int] = {}
        self.listeners = ListenerRuns(self.timeline, self.output)
        #: The file each thread runs; the main thread's is the snippet.
        self.thread_files: dict[str, str] = {}
        self.snippet: str | None = None
        self.scripts_ended: set[str] = set()
        self.truncated = False
        self.died: Run | None = None
        #: The callbacks running now, innermost last: the one that was running if Node dies
        #: without an uncaught error (a fatal error, out of memory) is the last one left.
        self.running: dict[str, list[Run]] = defaultdict(list)
        #: The ports (local, remote) of TCP sockets, by (thread, resource id).
        self.ports: dict[tuple[str, int], tuple[int, int]] = {}

    def feed(self, index: int, record: NodeRecord) -> None:
        match record:
            case InitRecord():
                self.init(index, record)
            case ResolveRecord():
                resolver = self.current(record.thread, record.exec_id, index, record.listeners)
                self.schedule.resolved_by(index, record, resolver)
            case BeforeRecord():
                self.before(index, record)
            case AfterRecord():
                self.loop_clock.ended(record)
                self.listeners.end(record.thread, record.us)
                if self.running[record.thread]:
                    self.output.ended(self.running[record.thread].pop(), record.us)
            case PrintRecord():
                self.print(index, record)
            case ThreadRecord():
                self.thread_started(index, record)
            case RefreshRecord():
                self.schedule.refreshed(record)
            case CloseRecord():
                closing = self.schedule.resources.get((record.thread, record.id))
                if closing is not None and closing.last_run is not None:
                    closing.last_run.queue = "close"
            case SendRecord():
                self.sent(record)
            case PortsRecord():
                self.ports[record.thread, record.id] = (record.local, record.remote)
            case DiedRecord():
                # For an unhandled rejection, exec is the rejected promise (see current()); a
                # listener of a process event may have thrown.
                thread, exec_id = record.thread, record.exec_id
                self.died = self.current(thread, exec_id, index, record.listeners, record.us)
                self.output.death(self.died, self.died.t, index)
            case TruncatedRecord():
                self.truncated = True

    def sent(self, record: SendRecord) -> None:
        if record.us is None:
            return
        sender = self.current(record.thread, record.exec_id)
        kind: Literal["udp", "stream"] = "udp" if record.udp else "stream"
        sender.sends.append(Send(record.us, kind, record.local, record.remote))

    def current(
        self,
        thread: str,
        exec_id: int,
        index: int = -1,
        listeners: ProcessListeners | None = None,
        us: int | None = None,
    ) -> Run:
        """The callback that code running in resource `exec_id` belongs to; if it ran from
        `listeners`, theirs (made at record `index`, at `us` if the record says)."""
        schedule = self.schedule
        if listeners is None:
            return schedule.running_in(thread, exec_id)
        ran_from = (
            schedule.main_run(thread) if exec_id == 0 else schedule.running_in(thread, exec_id)
        )
        promise = schedule.resources.get((thread, exec_id))
        rejected = promise.line if promise is not None and promise.type == "PROMISE" else None
        clock = schedule.clocks[thread]
        return self.listeners.innermost(exec_id, listeners, ran_from, rejected, clock, index, us)

    def thread_started(self, index: int, record: ThreadRecord) -> None:
        self.thread_files[record.thread] = record.main
        if record.thread == MAIN_THREAD:
            self.snippet = record.main
        start = self.schedule.start_clock(record.parent)
        main = self.schedule.main_run(record.thread, index, start)
        self.output.started(main, main.t, index, record.us)

    def init(self, index: int, record: InitRecord) -> None:
        # Outside any callback (exec 0: a connection accepted from C++), the trigger is the cause.
        exec_id = record.exec_id or record.trigger_id
        origin = self.current(record.thread, exec_id, index, record.listeners)
        job = self.schedule.resources.get((record.thread, exec_id))
        line, api = self.made_where(origin, job, record)
        self.schedule.created(index, record, origin, line, api)

    def made_where(
        self, origin: Run, job: Resource | None, record: InitRecord
    ) -> tuple[int | None, str]:
        """The line and API of the user call that made a resource, run `origin` making it in
        `job`; noted on `origin`: whether user code ran there, and scheduled the snippet's own."""
        file = record.file if record.file is not None else self.thread_files.get(record.thread)
        line = record.line if file == self.snippet else None
        api = record.api or ("await" if record.type == "PROMISE" else record.type)
        if record.line is not None:
            origin.ran_user_code = True
        if record.direct:
            origin.schedules_user = True
        elif record.line is None and job is not None and job.transparent and job.made_in_user_frame:
            # Made in one of Node's promise jobs (they run as part of the callback that queued
            # them): the user call that made that job started it. The nextTick that routes an
            # async listener's rejection to 'error' comes from the .then that emit() put on the
            # listener's promise, not from the code that rejected it.
            line, api = job.line, job.api
        elif record.line is None and origin is not self.schedule.mains.get(record.thread):
            # Node's plumbing carries on the user call that started it (fs.readFile's reads).
            line, api = origin.line, origin.api
        return line, api

    def before(self, index: int, record: BeforeRecord) -> None:
        thread = record.thread
        self.listeners.end(thread, record.us)
        self.schedule.run_starts(index, thread, record.id)
        run = self.schedule.running_in(thread, record.id)
        self.loop_clock.started(run, record, self.schedule.resources.get((thread, record.id)))
        run.ports = self.ports.get((thread, record.id))
        if thread not in self.scripts_ended and run is not self.schedule.mains.get(thread):
            # The script has ended once anything else runs.
            self.scripts_ended.add(thread)
            self.output.ended(self.schedule.main_run(thread), record.us)
        self.running[thread].append(run)
        self.output.started(run, run.t, index, record.us)

    def print(self, index: int, record: PrintRecord) -> None:
        thread, exec_id = record.thread, record.exec_id
        run = self.current(thread, exec_id, index, record.listeners, record.us)
        if record.type and (thread, exec_id) not in self.schedule.resources:
            run = self.schedule.synthetic_run(index, thread, exec_id, record.type)
        piece = Piece(record.stream, record.size, record.text, run, run.t, index, record.us)
        if record.at is not None:
            self.print_sites[index] = record.at
        if record.relay:
            self.output.relay(piece, None if thread == MAIN_THREAD else thread)
        elif thread != MAIN_THREAD and not record.direct:
            # Its console output reaches the real stream when the main thread relays it; a
            # direct write to the descriptor (fs.writeSync(1, …)) reaches it right away.
            self.output.worker_write(thread, piece)
        else:
            self.output.write(piece)

    def finish(
        self,
        record_count: int,
        output: dict[Stream, bytes],
        exit_code: int,
        runtime: str,
        arrivals: dict[Stream, Arrivals] | None = None,
    ) -> Trace:
        """The Trace of what was fed, out of `record_count` records in all."""
        # Bytes that no write accounts for after the last one: a callback still running when Node
        # ended without an uncaught error (a fatal error, out of memory) printed them.
        running = self.running[MAIN_THREAD]
        last = running[-1] if running and self.died is None else None
        main = self.schedule.main_run(MAIN_THREAD)
        found = self.output.lines(
            output,
            last,
            last.t if last else 0.0,
            record_count,
            first_owner=(main, main.t),
            arrivals=arrivals,
        )
        for line_index, line in enumerate(found):
            self.timeline.printed(line.index, line.owner, line.t, line_index)
        started = self.started_in_order()
        assign_turns(started)
        decisions = find_decisions(started)
        kept = [run for run in self.timeline.runs if self.keep(run)]
        kept.sort(key=lambda run: (run is not main, run.first_key or (0, 0, 0)))
        events = self.timeline.events
        truncated = self.truncated
        return assemble(
            "javascript",
            runtime,
            exit_code,
            kept,
            found,
            events,
            truncated=truncated,
            decisions=decisions,
            unsettled=unsettled_turns(started),
            print_sites=self.print_sites,
        )

    def started_in_order(self) -> list[Run]:
        """Every run, in the order they started (their first "run" event)."""
        runs: dict[int, Run] = {}
        for _, run, kind, _, _ in sorted(self.timeline.events, key=lambda event: event[0]):
            if kind == "run":
                runs.setdefault(id(run), run)
        return list(runs.values())

    def keep(self, run: Run) -> bool:
        """Only callbacks that tell the reader something: user code ran there, or it printed."""
        if run in self.schedule.mains.values() or run.printed or run.schedules_user:
            return True
        return run.direct and run.queue in DIRECT_QUEUES
