"""The Trace: what one run of a snippet really did, in a language-neutral, versioned form.

A Trace is the contract between the tracers (one per language) and the renderers (shared). A
renderer never asks which language produced a trace; a tracer never knows how it will be drawn.

Vocabulary of the model:
- A *callback* is one unit of work that a queue hands to the runtime: the main script, a timer
  callback, a promise reaction, an `await` continuation, an asyncio task step. Callback 0 is always
  the main script (queue ``sync``).
- An *event* is one moment of the run, in the order it happened: a callback entering its queue
  (``queued``), a callback starting to run (``run``), or a line being printed (``print``).
- A *printed line* is one line of the snippet's real output, with the queue of the callback that
  printed it, the source line that scheduled that callback, and the logical time.
- A *turn* is one pass of the event loop: 0 for the main script and the nextTicks and microtasks
  it leaves, then one per pass (Node: the timers, poll, check and close phases of one pass of
  libuv's loop; asyncio: one pass of the loop's `_run_once`). Turns count per thread, and only
  the passes that ran one of the trace's callbacks: a pass in which nothing of the snippet ran
  shows a reader nothing, and how many there are depends on the machine.
- A *clock decision* is an order between two callbacks that a clock decided (a timer due or not
  when its phase looked, an I/O or thread completion against a timer, threads against each
  other), with its margin: how much earlier or later one event would have had to happen for the
  other to run first. Orders the loop's rules force (queue priority, FIFO, timers in due-time
  order, causality) are never clock decisions.

Logical time (``t``, milliseconds) is derived from requested delays and the causal chain, never from
a wall clock, so that two builds of the same page are byte-identical.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Literal

# The names a trace's `queue` fields hold, part of its contract: looplens.queues has every fact
# about each one.
from looplens.queues import JS_QUEUES as JS_QUEUES
from looplens.queues import PYTHON_QUEUES as PYTHON_QUEUES
from looplens.queues import QUEUES as QUEUES

TRACE_VERSION = 2

Stream = Literal["stdout", "stderr"]
EventKind = Literal["queued", "run", "print"]

MAIN_THREAD = "main"
MAIN_CALLBACK = 0


@dataclass(frozen=True, slots=True)
class Callback:
    """One unit of work handed out by a queue."""

    id: int
    queue: str
    #: What scheduled it, in the words of the API: "setTimeout", ".then", "await", "create_task".
    api: str
    #: The snippet line that scheduled it (for an `await` continuation: the `await` line).
    line: int | None
    #: The callback that was running when this one was scheduled (None for the main script).
    parent: int | None
    #: Logical time at which it became due.
    t: float
    thread: str = MAIN_THREAD
    #: The loop turn it ran in, on its thread (0: the main script and what it leaves behind).
    turn: int = 0


@dataclass(frozen=True, slots=True)
class PrintedLine:
    """One line of real output, without its newline."""

    text: str
    stream: Stream
    queue: str
    #: The snippet line that scheduled the callback this line was printed from; None for sync code.
    line: int | None
    #: Logical time of the callback that printed it.
    t: float
    callback: int = MAIN_CALLBACK
    thread: str = MAIN_THREAD
    #: The loop turn of the callback that printed it.
    turn: int = 0
    #: The snippet's line whose call printed it (console.log's, print's caller); None when no
    #: line of the snippet's file did (Node's own report of an uncaught error, a worker's file).
    at: int | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """One moment of the run, in real order."""

    kind: EventKind
    callback: int
    #: Logical time of the moment: when the callback was due, or ran, or printed.
    t: float
    #: For ``print`` events: the index into ``Trace.lines``.
    line_index: int | None = None


ClockKind = Literal["timer", "io", "thread", "message"]


@dataclass(frozen=True, slots=True)
class ClockDecision:
    """Callback `first` ran before callback `second` because of a clock, and by how much.

    The figures are measured (wall clock of this run), so a page shows them only where it marks
    them as measured; two runs of one snippet give other figures, never another kind."""

    first: int
    second: int
    #: What the clock decided: a timer due or not ("timer"), an I/O completion ("io"), a
    #: thread's completion ("thread"), a message from another thread ("message").
    kind: ClockKind
    #: How much earlier or later (ms) the deciding event would have had to happen for `second` to
    #: run first; where it cannot be known exactly, the smallest value it can have.
    margin_ms: float
    #: How long (ms) the machine kept the thread waiting to run (its run-queue delay) inside the
    #: window that decided it: a stall this long may have eaten that much of the margin.
    stall_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class Trace:
    """Everything a renderer may know about one run."""

    language: Literal["javascript", "python"]
    runtime: str
    exit_code: int
    lines: tuple[PrintedLine, ...]
    callbacks: tuple[Callback, ...]
    events: tuple[Event, ...]
    #: True when the tracer stopped recording events early (the output is still complete).
    truncated: bool = False
    #: Every order between printing callbacks that a clock decided, with its margin.
    decisions: tuple[ClockDecision, ...] = ()
    #: The callbacks whose turn number this run measured rather than the loop's rules fixed: a
    #: Node timer came due less than the minimum margin after the callback before it, or an
    #: asyncio loop got a thread's result, so another run may put it one pass sooner or later,
    #: and with it every turn counted after it on its thread (the orders stay as they are).
    turns_measured: tuple[int, ...] = ()
    version: int = TRACE_VERSION

    def callback(self, callback_id: int) -> Callback:
        for callback in self.callbacks:
            if callback.id == callback_id:
                return callback
        raise KeyError(callback_id)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, *, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, sort_keys=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Trace:
        if not isinstance(data, dict):
            raise ValueError(f"a trace is a JSON object, not {type(data).__name__}")
        version = data.get("version")
        if version != TRACE_VERSION:
            raise ValueError(f"unsupported trace version {version!r} (expected {TRACE_VERSION})")
        return cls(
            language=data["language"],
            runtime=data["runtime"],
            exit_code=data["exit_code"],
            lines=tuple(PrintedLine(**line) for line in data["lines"]),
            callbacks=tuple(Callback(**callback) for callback in data["callbacks"]),
            events=tuple(Event(**event) for event in data["events"]),
            truncated=data.get("truncated", False),
            decisions=tuple(ClockDecision(**decision) for decision in data.get("decisions", ())),
            turns_measured=tuple(int(callback) for callback in data.get("turns_measured", ())),
            version=version,
        )

    @classmethod
    def from_json(cls, text: str) -> Trace:
        return cls.from_dict(json.loads(text))
