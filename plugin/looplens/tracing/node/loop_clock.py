"""What the records tell of a macrotask's place in real time: when it started, whether the
thread waited for it, when it was armed (made, or re-armed by its previous run) and, for a timer,
when it was due. Margins (margins.py) are measured between these times."""

from __future__ import annotations

from looplens.tracing.node.record_types import AfterRecord, BeforeRecord
from looplens.tracing.node.runs import PROMISE_TYPES, Resource, Run
from looplens.tracing.node.turns import MACROTASK_QUEUES

#: A gap this long between one callback's end and the next one's start (less the time the
#: machine kept the thread waiting to run) means the loop sat waiting in poll: what came next
#: was ready only then.
WAITING_US = 1000


class LoopClock:
    """The real-time facts of each thread's macrotasks, as their before records come."""

    def __init__(self) -> None:
        self.last_end: dict[str, int] = {}
        self.last_delay: dict[str, int] = {}

    def ended(self, record: AfterRecord) -> None:
        if record.us is not None:
            self.last_end[record.thread] = record.us
        if record.rd is not None:
            self.last_delay[record.thread] = record.rd

    def started(self, run: Run, record: BeforeRecord, resource: Resource | None) -> None:
        """`run` of `resource` (None: made before the preload) starts, as `record` says."""
        if run.started_us is not None or record.us is None or run.queue not in MACROTASK_QUEUES:
            return
        if resource is not None and resource.type in PROMISE_TYPES:
            return
        thread, us, rd = record.thread, record.us, record.rd
        run.loop_count, run.started_us, run.started_rd = record.loop_count, us, rd
        last_end = self.last_end.get(thread)
        if last_end is not None:
            last_delay = self.last_delay.get(thread)
            stall = rd - last_delay if rd is not None and last_delay is not None else 0
            run.waited = us - last_end - stall >= WAITING_US
        if rd is not None:
            self.last_delay[thread] = rd
        run.resource_key = (thread, record.id)
        if resource is None:
            run.resource_type = "unknown"
            return
        run.resource_type = resource.type
        run.armed_us, run.armed_rd = resource.armed_us, resource.armed_rd
        resource.armed_us, resource.armed_rd = us, rd
        if resource.type == "Timeout" and resource.timer_start_us is not None:
            # The k-th run since the delay last started is due k delays after it (Node runs no
            # timer sooner than 1 ms).
            runs = resource.run_count - resource.runs_before
            delay = max(1.0, resource.delay or 1.0)
            run.due_us = resource.timer_start_us + delay * 1000 * runs
