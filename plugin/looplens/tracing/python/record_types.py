"""The records of the asyncio tracer (tracers/python, see _looplens_records.py), typed, and how a
raw one is read.

The tracer reports facts in the order they happened, logical times included, one JSON object a
line with its kind (``k``). Contexts are what the tracer follows: the main script (id 0), a task
step, a loop callback, a piece of executor work or a thread. parse() reads a record once, as the
side channel gives it; the reader only ever sees these values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from looplens.trace import MAIN_THREAD, Stream

Raw = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class StartRecord:
    """``start``: the tracer is installed and the snippet starts (the main script runs)."""


@dataclass(frozen=True, slots=True)
class QueuedRecord:
    """``q``: context ``id`` was queued by context ``parent``."""

    id: int
    parent_id: int
    #: ``queue``: the queue of the vocabulary it waits in.
    queue: str
    #: ``api``: what queued it (the queue's name if the tracer does not say).
    api: str
    line: int | None
    #: ``user``: scheduled by the snippet's code (or runs it), not by asyncio's plumbing.
    user: bool
    #: ``due``: the logical time it is due; ``at``: the parent's logical time when it queued it,
    #: if not then (a timer is queued now and due later).
    due: float
    at: float
    #: ``th``: the thread that queued it; ``us`` and ``rd``: when, on the loop's clock (µs),
    #: and that thread's run-queue delay then (µs), where the tracer says.
    thread: str = MAIN_THREAD
    us: int | None = None
    rd: int | None = None


@dataclass(frozen=True, slots=True)
class RanRecord:
    """``run``: context ``id`` started, at logical time ``t``."""

    id: int
    t: float
    #: ``th``: the thread it ran in.
    thread: str
    #: ``pool``: for executor work, how its executor's threads are named (``asyncio``).
    pool: str | None
    #: ``api``: what it runs, when the tracer only knew it when it started.
    api: str | None
    #: ``us`` and ``rd``: when it started, on the loop's clock (µs), and its thread's run-queue
    #: delay then (µs); ``turn``: for a loop handle, the pass of its loop it ran in.
    us: int | None = None
    rd: int | None = None
    turn: int | None = None
    #: ``task``: for a task step, the number of its task (every step of a task has the same).
    task: int | None = None


@dataclass(frozen=True, slots=True)
class PrintedRecord:
    """``p``: context ``c`` wrote ``text`` (``n`` bytes) to stream ``s``, at logical time ``t``."""

    context_id: int
    stream: Stream
    text: str
    size: int
    t: float
    #: ``queue``: for a context past the tracer's cap, the only thing known about it.
    queue: str
    #: ``at``: the snippet's line that wrote it (None: a write from no line of the snippet's).
    at: int | None = None


@dataclass(frozen=True, slots=True)
class DoneRecord:
    """``done``: the executor work of context ``id`` is done: its worker is free."""

    id: int


@dataclass(frozen=True, slots=True)
class TruncatedRecord:
    """``truncated``: the context cap was reached: no context made later is recorded (writes
    still are, with the queue of the context they ran in)."""


@dataclass(frozen=True, slots=True)
class ErrorRecord:
    """``error``: the tracer itself failed, with this traceback."""

    text: str


AsyncioRecord = (
    StartRecord
    | QueuedRecord
    | RanRecord
    | PrintedRecord
    | DoneRecord
    | TruncatedRecord
    | ErrorRecord
)


def parse(raw: Raw) -> AsyncioRecord | None:
    """The typed record of a raw one; None for a kind the reader does not know."""
    kind = raw.get("k")
    parser = _PARSERS.get(kind) if isinstance(kind, str) else None
    return None if parser is None else parser(raw)


def _start(raw: Raw) -> StartRecord:
    return StartRecord()


def _queued(raw: Raw) -> QueuedRecord:
    queue = str(raw["queue"])
    line = raw.get("line")
    due = float(raw["due"])
    return QueuedRecord(
        int(raw["id"]),
        int(raw["parent"]),
        queue,
        str(raw.get("api") or queue),
        None if line is None else int(line),
        bool(raw.get("user")),
        due,
        float(raw.get("at", due)),
        str(raw.get("th") or MAIN_THREAD),
        _whole(raw, "us"),
        _whole(raw, "rd"),
    )


def _ran(raw: Raw) -> RanRecord:
    pool = raw.get("pool")
    api = raw.get("api")
    return RanRecord(
        int(raw["id"]),
        float(raw["t"]),
        str(raw.get("th") or MAIN_THREAD),
        str(pool) if pool else None,
        str(api) if api else None,
        _whole(raw, "us"),
        _whole(raw, "rd"),
        _whole(raw, "turn"),
        _whole(raw, "task"),
    )


def _whole(raw: Raw, field: str) -> int | None:
    value = raw.get(field)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _printed(raw: Raw) -> PrintedRecord:
    stream: Stream = "stderr" if raw["s"] == "stderr" else "stdout"
    return PrintedRecord(
        int(raw["c"]),
        stream,
        str(raw["text"]),
        int(raw["n"]),
        float(raw["t"]),
        str(raw.get("queue", "callback")),
        _whole(raw, "at"),
    )


def _done(raw: Raw) -> DoneRecord:
    return DoneRecord(int(raw["id"]))


def _truncated(raw: Raw) -> TruncatedRecord:
    return TruncatedRecord()


def _error(raw: Raw) -> ErrorRecord:
    return ErrorRecord(str(raw.get("text", "")))


_PARSERS: dict[str, Callable[[Raw], AsyncioRecord]] = {
    "start": _start,
    "q": _queued,
    "run": _ran,
    "p": _printed,
    "done": _done,
    "truncated": _truncated,
    "error": _error,
}
