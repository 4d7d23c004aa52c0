"""The records of the Node preload (tracers/node/preload.cjs), typed, and how a raw one is read.

The preload writes facts as they happen, one JSON object a line, each with its thread (``th``:
"main", or "worker N") and its kind (``k``). parse() reads one once, as the side channel gives
it; the reader only ever sees these values. Each class below names the raw fields it comes from.

``us`` (on thread, before, after, print and died records): microseconds on the monotonic clock,
to place output that no record accounts for (see looplens.tracing.output).

Resource ids are Node's async ids, except queueMicrotask callbacks: they have negative ids, as the
preload numbers them itself. ``exec`` is the resource running when the record was made (0:
outside any callback).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from looplens.trace import Stream

Raw = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ProcessListeners:
    """``listeners`` (init, resolve, print and died records): the code ran from listeners of
    process events that Node emitted itself: 'beforeExit' and 'exit' after the loop ended
    (``exec`` 0), 'unhandledRejection' from the step where Node reports rejections (``exec`` is
    the rejected promise), 'uncaughtException' right after a callback threw (``exec`` is that
    callback), 'exit' from process.exit() or after an uncaught error."""

    #: The events, outermost first (the preload writes them innermost first).
    events: tuple[str, ...]
    #: ``rejections``: the outermost one ran from the rejections step (an 'uncaughtException' or
    #: 'exit' listener after a rejection nobody handled).
    rejections: bool


@dataclass(frozen=True, slots=True)
class ThreadRecord:
    """``thread``: the preload started in a thread; ``main`` is the file that thread runs."""

    thread: str
    main: str
    us: int | None
    #: ``parent`` of a worker: the thread and id of the WORKER resource that made it.
    parent: tuple[str, int] | None


@dataclass(frozen=True, slots=True)
class InitRecord:
    """``init``: an async resource was created."""

    thread: str
    id: int
    type: str
    #: ``trigger``: the resource that caused it (for a promise reaction, its parent promise).
    trigger_id: int
    exec_id: int
    #: ``line`` (and ``file`` if not the thread's main file) and ``api``: when a user frame is on
    #: the stack, where it is and the API it called.
    line: int | None
    file: str | None
    api: str | None
    #: ``direct``: the resource is the user's own callback (the timer of a setTimeout, the
    #: reaction of a .then), not a helper Node made on the way.
    direct: bool
    #: ``delay``, for timers: the delay after Node's clamping (0 becomes 1).
    delay: float | None
    listeners: ProcessListeners | None
    #: ``us`` and ``rd`` (not for promises): when it was made, and the thread's run-queue delay
    #: then (µs; none where /proc/thread-self/schedstat cannot be read).
    us: int | None = None
    rd: int | None = None


@dataclass(frozen=True, slots=True)
class BeforeRecord:
    """``before``: a resource's callback starts."""

    thread: str
    id: int
    us: int | None
    #: ``lc`` (not for promises or queueMicrotask callbacks, and only where Node shows it):
    #: libuv's loop count, which it increments just before each poll.
    loop_count: int | None = None
    #: ``rd``: the thread's run-queue delay so far, µs (as on init records).
    rd: int | None = None


@dataclass(frozen=True, slots=True)
class AfterRecord:
    """``after`` (with the ``id`` of the resource): the callback that started last ends."""

    thread: str
    us: int | None
    rd: int | None = None


@dataclass(frozen=True, slots=True)
class CloseRecord:
    """``close``: the callback running in resource ``id`` is a handle's close callback."""

    thread: str
    id: int


@dataclass(frozen=True, slots=True)
class SendRecord:
    """``send``: the callback running in resource ``exec`` sent, first at ``us``: a datagram
    (``udp``), or through a stream from TCP port ``local`` to port ``remote`` (none: a pipe)."""

    thread: str
    exec_id: int
    us: int | None
    udp: bool = False
    local: int | None = None
    remote: int | None = None


@dataclass(frozen=True, slots=True)
class PortsRecord:
    """``sock``: TCP socket ``id`` joins port ``local`` of this host to port ``remote``."""

    thread: str
    id: int
    local: int
    remote: int


@dataclass(frozen=True, slots=True)
class ResolveRecord:
    """``resolve``: promise ``id`` was resolved while ``exec`` ran."""

    thread: str
    id: int
    exec_id: int
    listeners: ProcessListeners | None


@dataclass(frozen=True, slots=True)
class RefreshRecord:
    """``refresh``: ``timeout.refresh()`` restarted timer ``id`` (while ``exec`` ran)."""

    thread: str
    id: int
    us: int | None = None


@dataclass(frozen=True, slots=True)
class PrintRecord:
    """``print``: a write to ``stream`` of ``text`` (``bytes`` long) while ``exec`` ran."""

    thread: str
    exec_id: int
    stream: Stream
    text: str
    size: int
    us: int | None
    #: ``relay``: the main thread writing a worker's output.
    relay: bool
    #: ``direct``: a write straight to the descriptor (fs.writeSync(1, …)).
    direct: bool
    #: ``type``: the running resource's type, once records are truncated (the resource cap was
    #: reached), so that the write still has a queue.
    type: str | None
    listeners: ProcessListeners | None
    #: ``at``: the line of the snippet's main file that wrote it (console.log's caller).
    at: int | None = None


@dataclass(frozen=True, slots=True)
class DiedRecord:
    """``died``: an uncaught error while ``exec`` ran (for an unhandled rejection, ``exec`` is the
    rejected promise)."""

    thread: str
    exec_id: int
    us: int | None
    listeners: ProcessListeners | None


@dataclass(frozen=True, slots=True)
class TruncatedRecord:
    """``truncated``: the resource cap was reached: no resource made later is recorded (writes
    still are, with the type of the resource they ran in)."""

    thread: str


NodeRecord = (
    ThreadRecord
    | InitRecord
    | BeforeRecord
    | AfterRecord
    | CloseRecord
    | SendRecord
    | PortsRecord
    | ResolveRecord
    | RefreshRecord
    | PrintRecord
    | DiedRecord
    | TruncatedRecord
)


def parse_all(records: Sequence[Raw]) -> list[NodeRecord | None]:
    """The typed record of each raw one, None for a kind the reader does not know: a record's
    index stays its index in the side channel, by which events and output are placed."""
    return [parse(raw) for raw in records]


def parse(raw: Raw) -> NodeRecord | None:
    """The typed record of a raw one; None for a kind the reader does not know."""
    thread = str(raw["th"])
    kind = raw["k"]
    parser = _PARSERS.get(kind) if isinstance(kind, str) else None
    return None if parser is None else parser(thread, raw)


def _thread(thread: str, raw: Raw) -> ThreadRecord:
    parent = raw.get("parent")
    made_by = (
        (str(parent[0]), int(parent[1])) if isinstance(parent, list) and len(parent) == 2 else None
    )
    return ThreadRecord(thread, str(raw["main"]), _us(raw), made_by)


def _init(thread: str, raw: Raw) -> InitRecord:
    api = raw.get("api")
    delay = raw.get("delay")
    return InitRecord(
        thread,
        int(raw["id"]),
        str(raw["type"]),
        int(raw["trigger"]),
        int(raw["exec"]),
        int(raw["line"]) if "line" in raw else None,
        raw.get("file"),
        str(api) if api else None,
        bool(raw.get("direct")),
        float(delay) if delay else None,
        _listeners(raw),
        _us(raw),
        _us(raw, "rd"),
    )


def _before(thread: str, raw: Raw) -> BeforeRecord:
    return BeforeRecord(thread, int(raw["id"]), _us(raw), _us(raw, "lc"), _us(raw, "rd"))


def _after(thread: str, raw: Raw) -> AfterRecord:
    return AfterRecord(thread, _us(raw), _us(raw, "rd"))


def _close(thread: str, raw: Raw) -> CloseRecord:
    return CloseRecord(thread, int(raw["id"]))


def _send(thread: str, raw: Raw) -> SendRecord:
    return SendRecord(
        thread,
        int(raw["exec"]),
        _us(raw),
        bool(raw.get("udp")),
        _us(raw, "local"),
        _us(raw, "remote"),
    )


def _ports(thread: str, raw: Raw) -> PortsRecord:
    return PortsRecord(thread, int(raw["id"]), int(raw["local"]), int(raw["remote"]))


def _resolve(thread: str, raw: Raw) -> ResolveRecord:
    return ResolveRecord(thread, int(raw["id"]), int(raw["exec"]), _listeners(raw))


def _refresh(thread: str, raw: Raw) -> RefreshRecord:
    return RefreshRecord(thread, int(raw["id"]), _us(raw))


def _print(thread: str, raw: Raw) -> PrintRecord:
    stream: Stream = "stderr" if raw["stream"] == "stderr" else "stdout"
    resource_type = raw.get("type")
    return PrintRecord(
        thread,
        int(raw["exec"]),
        stream,
        str(raw["text"]),
        int(raw["bytes"]),
        _us(raw),
        bool(raw.get("relay")),
        bool(raw.get("direct")),
        str(resource_type) if resource_type else None,
        _listeners(raw),
        _us(raw, "at"),
    )


def _died(thread: str, raw: Raw) -> DiedRecord:
    return DiedRecord(thread, int(raw["exec"]), _us(raw), _listeners(raw))


def _truncated(thread: str, raw: Raw) -> TruncatedRecord:
    return TruncatedRecord(thread)


_PARSERS: dict[str, Callable[[str, Raw], NodeRecord]] = {
    "thread": _thread,
    "init": _init,
    "before": _before,
    "after": _after,
    "close": _close,
    "send": _send,
    "sock": _ports,
    "resolve": _resolve,
    "refresh": _refresh,
    "print": _print,
    "died": _died,
    "truncated": _truncated,
}


def _listeners(raw: Raw) -> ProcessListeners | None:
    events = raw.get("listeners")
    if not events:
        return None
    return ProcessListeners(
        tuple(str(event) for event in reversed(events)), bool(raw.get("rejections"))
    )


def _us(raw: Raw, field: str = "us") -> int | None:
    """When a record was made, in microseconds on the monotonic clock, if it says (or another
    whole-number field: ``lc``, ``rd``, ``at``)."""
    us = raw.get(field)
    return int(us) if isinstance(us, int | float) else None
