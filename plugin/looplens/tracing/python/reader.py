"""Read the typed records of one asyncio run, in order, into callbacks, their events and output.

What a reader of the page sees:

- Which callbacks: the main script, every context that printed, and every context that the
  snippet's own code scheduled and that ran (task steps of its coroutines, call_soon/call_later
  callbacks, done callbacks, executor work, threads). asyncio's plumbing (the timer behind
  asyncio.sleep, gather's done callbacks, the runner's shutdown tasks) is dropped; what it
  scheduled hangs from the nearest kept ancestor.
- Executor threads are named by a deterministic pool: work takes the lowest free worker of its
  executor (``asyncio_0``, ``asyncio_1``, …) and frees it when done. Which real thread ran it is a
  race that would change the page from build to build.
"""

from __future__ import annotations

from collections import defaultdict

from looplens.trace import MAIN_THREAD, EventKind, Stream, Trace
from looplens.tracing.assembly import assemble
from looplens.tracing.output import OutputBuilder, Piece
from looplens.tracing.python.margins import find_decisions, is_completion_collector
from looplens.tracing.python.record_types import (
    AsyncioRecord,
    DoneRecord,
    ErrorRecord,
    PrintedRecord,
    QueuedRecord,
    RanRecord,
    StartRecord,
    TruncatedRecord,
)
from looplens.tracing.python.runs import EventKey, Run
from looplens.tracing.python.turns import unsettled_turns


class AsyncioRecordReader:
    """One reading of an asyncio run's records: feed() each in order, then finish()."""

    def __init__(self) -> None:
        self.main = Run("sync", "main script", None, None, 0.0, user=True, ran=True)
        self.runs: dict[int, Run] = {0: self.main}
        self.order: list[Run] = [self.main]
        #: The latest logical time of the main thread: that of bytes printed at exit.
        self.end_t = 0.0
        self.workers: dict[str, list[Run | None]] = defaultdict(list)
        self.events: list[tuple[EventKey, Run, EventKind, float, int | None]] = []
        self.output: OutputBuilder[Run] = OutputBuilder()
        #: The snippet's line of each write, by its record index (see assembly.assemble).
        self.print_sites: dict[int, int] = {}
        self.truncated = False
        self.errors: list[str] = []
        self.sequence = 0
        #: The runs that started, in the order they did.
        self.started_order: list[Run] = []

    def feed(self, index: int, record: AsyncioRecord) -> None:
        match record:
            case QueuedRecord():
                self.queued(index, record)
            case RanRecord():
                self.started(index, record)
            case PrintedRecord():
                self.printed(index, record)
            case DoneRecord():
                self.done(record.id)
            case StartRecord():
                self.event(index, "run", self.main, 0.0)
            case TruncatedRecord():
                self.truncated = True
            case ErrorRecord():
                self.errors.append(record.text)

    def event(self, index: int, kind: EventKind, run: Run, t: float) -> None:
        self.sequence += 1
        key = (index, self.sequence)
        if run.first_key is None:
            run.first_key = key
        self.events.append((key, run, kind, t, None))

    def queued(self, index: int, record: QueuedRecord) -> None:
        parent = self.runs.get(record.parent_id, self.main)
        run = Run(record.queue, record.api, record.line, parent, record.due, record.user)
        run.delay_ms = record.due - record.at
        run.queued_thread, run.queued_us, run.queued_rd = record.thread, record.us, record.rd
        self.runs[record.id] = run
        self.order.append(run)
        # A timer is queued at its parent's logical time, and due later.
        self.event(index, "queued", run, record.at)

    def started(self, index: int, record: RanRecord) -> None:
        run = self.runs.get(record.id)
        if run is None:
            return
        run.thread = self.worker(record.pool, run) if record.pool else record.thread
        if record.api:
            run.api = record.api
        if record.turn is not None:
            run.turn = record.turn
        run.started_us, run.started_rd, run.task = record.us, record.rd, record.task
        if not run.ran:
            self.started_order.append(run)
        run.ran = True
        self.event(index, "run", run, self.at(run, record.t))

    def worker(self, prefix: str, run: Run) -> str:
        """The lowest free worker of the executor whose threads are named `prefix`_N."""
        slots = self.workers[prefix]
        free = next((number for number, holder in enumerate(slots) if holder is None), len(slots))
        if free == len(slots):
            slots.append(run)
        else:
            slots[free] = run
        return f"{prefix}_{free}"

    def done(self, run_id: int) -> None:
        run = self.runs.get(run_id)
        for slots in self.workers.values():
            for number, holder in enumerate(slots):
                if holder is run:
                    slots[number] = None

    def printed(self, index: int, record: PrintedRecord) -> None:
        t = record.t
        run = self.runs.get(record.context_id)
        if run is None:
            run = self.unrecorded(index, record.context_id, record.queue, t)
        piece = Piece(record.stream, record.size, record.text, run, self.at(run, t), index)
        self.output.write(piece)
        if record.at is not None:
            self.print_sites[index] = record.at

    def at(self, run: Run, t: float) -> float:
        """`t`, the logical time of something `run` did; noted: what comes out of the process
        unaccounted for, at exit, comes at the latest time of the main thread."""
        if run.thread == MAIN_THREAD:
            self.end_t = max(self.end_t, t)
        return t

    def unrecorded(self, index: int, run_id: int, queue: str, t: float) -> Run:
        """A context past the tracer's cap: only its queue is known."""
        run = Run(queue, queue, None, self.main, t, user=False, ran=True)
        self.runs[run_id] = run
        self.order.append(run)
        self.event(index, "run", run, t)
        return run

    def finish(
        self, record_count: int, output: dict[Stream, bytes], exit_code: int, runtime: str
    ) -> Trace:
        """The Trace of what was fed, out of `record_count` records in all."""
        # Bytes that no traced write made: those before a traced write (os.write in the same
        # step) belong to its callback; those after the last one (printed while the interpreter
        # shuts down) to the main script, at the end of the run.
        found = self.output.lines(output, self.main, self.end_t, record_count)
        for line_index, line in enumerate(found):
            line.owner.printed = True
            self.sequence += 1
            key = (line.index, self.sequence)
            self.events.append((key, line.owner, "print", line.t, line_index))
        kept = [run for run in self.order if self.keep(run)]
        kept.sort(key=lambda run: (run is not self.main, run.first_key or (0, 0)))
        return assemble(
            "python",
            runtime,
            exit_code,
            kept,
            found,
            self.events,
            truncated=self.truncated,
            decisions=find_decisions(self.started_order),
            unsettled=unsettled_turns(self.started_order),
            print_sites=self.print_sites,
        )

    def keep(self, run: Run) -> bool:
        # as_completed's done callbacks decide the order of its results: a page shows them.
        return (
            run is self.main
            or run.printed
            or (run.user and run.ran)
            or (run.ran and is_completion_collector(run))
        )
