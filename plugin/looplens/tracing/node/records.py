"""Turn the raw records of the Node preload (tracers/node/preload.cjs) into a Trace.

The records are typed once (record_types), then read (reader.NodeRecordReader) twice.

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
twice: the first reading finds the runs that nothing came of, the second lets them move no clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from looplens.trace import Stream, Trace
from looplens.tracing.node.reader import NodeRecordReader
from looplens.tracing.node.record_types import NodeRecord, parse_all
from looplens.tracing.node.runs import Run, RunKey
from looplens.tracing.output import Arrivals


def build_trace(
    records: Sequence[Mapping[str, Any]],
    output: dict[Stream, bytes],
    exit_code: int,
    runtime: str,
    arrivals: dict[Stream, Arrivals] | None = None,
) -> Trace:
    """The Trace of a run's records, without the runs of Node's own timers that nothing the
    snippet sees came of (see the module's docstring)."""
    typed = parse_all(records)
    first = _read(typed, NodeRecordReader())
    trace = first.finish(len(records), output, exit_code, runtime, arrivals)
    silent = unseen_outside_time_runs(first)
    if not silent:
        return trace
    second = _read(typed, NodeRecordReader(silent_runs=silent))
    return second.finish(len(records), output, exit_code, runtime, arrivals)


def _read(records: list[NodeRecord | None], reader: NodeRecordReader) -> NodeRecordReader:
    for index, record in enumerate(records):
        if record is not None:
            reader.feed(index, record)
    return reader


def unseen_outside_time_runs(reader: NodeRecordReader) -> frozenset[RunKey]:
    """After the reader finished: the runs due at a time from outside the snippet's schedule in
    which no code of the snippet ran, and that no kept callback descends from."""
    runs = reader.timeline.runs
    seen: set[RunKey] = set()
    # Runs whose ancestors are already counted: a long chain is walked once, not once a link.
    walked: set[int] = set()
    for run in runs:
        if not (reader.keep(run) or run.ran_user_code):
            continue
        ancestor: Run | None = run
        while ancestor is not None and id(ancestor) not in walked:
            walked.add(id(ancestor))
            if ancestor.outside_time is not None:
                seen.add(ancestor.outside_time)
            ancestor = ancestor.parent
    return frozenset(
        run.outside_time
        for run in runs
        if run.outside_time is not None and run.outside_time not in seen
    )
