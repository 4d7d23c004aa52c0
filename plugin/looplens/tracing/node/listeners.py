"""The callbacks of listeners of process events that Node emitted itself (see ProcessListeners).

Each event's listeners are one callback, a child of the one they ran from: for listeners that
Node calls from the rejections step, the callback that rejected the promise (their queue is
"nextTick": Node takes that step in the function that drains the nextTick queue, once it and the
microtask queue are empty); for 'beforeExit' and 'exit' after the loop, the main script, with its
queue ("sync": they run from no queue of the vocabulary); else the callback they ran in, with its
queue. Their clock is the moment they run, so that time never goes back.
"""

from __future__ import annotations

from looplens.tracing.node.record_types import ProcessListeners
from looplens.tracing.node.runs import Run, Timeline
from looplens.tracing.output import OutputBuilder

#: Listeners running now: (thread, the resource they ran in, from the rejections step, the
#: events from the outermost one to theirs).
ListenerKey = tuple[str, int, bool, tuple[str, ...]]


class ListenerRuns:
    """The listeners of process events running now, until the next callback starts or ends."""

    def __init__(self, timeline: Timeline, output: OutputBuilder[Run]) -> None:
        self.timeline = timeline
        self.output = output
        self.running: dict[ListenerKey, Run] = {}

    def innermost(
        self,
        exec_id: int,
        listeners: ProcessListeners,
        ran_from: Run,
        rejected_line: int | None,
        clock: float,
        index: int,
        us: int | None,
    ) -> Run:
        """The callback of the innermost listener that code in resource `exec_id` runs from:
        `ran_from` is the callback that exec_id's code belongs to (the main script for exec 0),
        `rejected_line` the line of the promise whose rejection Node reports, if it does."""
        thread = ran_from.thread
        events = listeners.events
        rejections = listeners.rejections
        queue = "nextTick" if rejections else "sync" if exec_id == 0 else ran_from.queue
        run = ran_from
        line = rejected_line if rejections else None
        for depth, event in enumerate(events, start=1):
            key = (thread, exec_id, rejections, events[:depth])
            listener = self.running.get(key)
            if listener is None:
                api = f"process.on('{event}')"
                listener = Run(thread, queue, api, line, run, clock, direct=False, t=clock)
                self.running[key] = listener
                self.timeline.ran(index, listener, clock)
                self.output.started(listener, clock, index, us)
            run, line = listener, None
        return run

    def end(self, thread: str, us: int | None) -> None:
        """A callback starts or ends in `thread`: the listeners that ran before it returned."""
        for key in [key for key in self.running if key[0] == thread]:
            self.output.ended(self.running.pop(key), us)
