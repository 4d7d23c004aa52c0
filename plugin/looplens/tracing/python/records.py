"""Turn the raw records of the asyncio tracer (tracers/python, see _looplens_records.py) into a
Trace: typed once (record_types), then read (reader.AsyncioRecordReader)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from looplens.errors import TracerError
from looplens.trace import Stream, Trace
from looplens.tracing.python.reader import AsyncioRecordReader
from looplens.tracing.python.record_types import parse


def build_trace(
    records: Sequence[Mapping[str, Any]],
    output: dict[Stream, bytes],
    exit_code: int,
    runtime: str,
    *,
    name: str,
) -> Trace:
    """The Trace of a run's records; TracerError naming the snippet file if the tracer reported
    a failure of its own."""
    reader = AsyncioRecordReader()
    for index, raw in enumerate(records):
        # Typed just before it is read and dropped after: tens of thousands of typed records held
        # at once would make the garbage collector walk them again and again.
        record = parse(raw)
        if record is not None:
            reader.feed(index, record)
    if reader.errors:
        raise TracerError(f"the Python tracer failed on {name}:\n{reader.errors[0]}")
    return reader.finish(len(records), output, exit_code, runtime)
