"""The queues a printed line may have run from: every fact about each one, in one table.

A Trace names the queue of every callback and printed line by one of these names; the renderers
take from here how to title it in a diagram, what to say about it under a predict question and
which colour its chip has, and the expectation parser which names it may read. The glossary
(docs/glossary.md) and the authors' guide describe the same queues at more length, in the same
order; tests hold them to this table.
"""

from __future__ import annotations

from dataclasses import dataclass

from looplens.snippet import Language


@dataclass(frozen=True, slots=True)
class Queue:
    """One queue (or loop phase) that hands callbacks to the runtime."""

    name: str
    #: The languages whose traces use it.
    languages: tuple[Language, ...]
    #: The diagram's name for its participant; None for `sync`, which is the call stack itself.
    title: str | None
    #: One line on what it holds, shown next to every revealed line of a predict question.
    note: str
    #: The colour of its chip in the output table, the player and the question, as `#rrggbb`.
    colour: str
    #: Its callbacks wait for a time (a delay, a deadline), which the diagram shows.
    timed: bool = False


#: Each queue's note (Queue.note) by name, apart: a sentence would not fit in the table's rows.
_NOTES = {
    "sync": "The main script itself, run top to bottom before any callback.",
    "nextTick": "A process.nextTick callback: drained after the current callback, "
    "before promise reactions.",
    "microtask": "A promise reaction (.then, the code after await) or queueMicrotask: "
    "all run before the loop moves on.",
    "timers": "A setTimeout or setInterval callback, run in the timers phase once its delay "
    "has passed.",
    "check": "A setImmediate callback, run in the check phase, right after polling for I/O.",
    "poll": "An I/O callback (files, sockets, DNS, thread-pool work), run when the operation "
    "completes.",
    "close": "A close callback of a handle, such as a socket's 'close' event.",
    "task": "A step of an asyncio task: its coroutine runs until it really waits.",
    "callback": "A call_soon callback, run by the loop in the order it was scheduled.",
    "timer": "A call_later or call_at callback, run once its time has come.",
    "done_callback": "A callback added with Future.add_done_callback, run once the future is done.",
    "thread": "Printed from another thread (to_thread, run_in_executor), beside the loop.",
}

_BOTH: tuple[Language, ...] = ("javascript", "python")
_NODE: tuple[Language, ...] = ("javascript",)
_ASYNCIO: tuple[Language, ...] = ("python",)

#: One row a queue: name, languages, diagram title, chip colour, timed (see Queue).
QUEUE_TABLE: tuple[Queue, ...] = tuple(
    Queue(name, languages, title, _NOTES[name], colour, timed)
    for name, languages, title, colour, timed in (
        ("sync", _BOTH, None, "#9e9e9e", False),
        ("nextTick", _NODE, "nextTick queue", "#e91e63", False),
        ("microtask", _NODE, "Microtask queue", "#7c4dff", False),
        ("timers", _NODE, "Timers", "#ff9800", True),
        ("check", _NODE, "Check (setImmediate)", "#00bcd4", False),
        ("poll", _NODE, "Poll (I/O)", "#4caf50", False),
        ("close", _NODE, "Close callbacks", "#795548", False),
        # asyncio's ready queue holds task steps and callbacks alike: one colour for both.
        ("task", _ASYNCIO, "Ready queue: tasks", "#3f51b5", False),
        ("callback", _ASYNCIO, "Ready queue: callbacks", "#3f51b5", False),
        # The same colour as Node's timers phase: who knows one recognises the other.
        ("timer", _ASYNCIO, "Timers", "#ff9800", True),
        ("done_callback", _ASYNCIO, "Done callbacks", "#009688", False),
        ("thread", _ASYNCIO, "Threads", "#8bc34a", False),
    )
)

#: Every queue name, in the table's order: `sync`, then Node's, then asyncio's.
QUEUES = tuple(queue.name for queue in QUEUE_TABLE)
JS_QUEUES = tuple(queue.name for queue in QUEUE_TABLE if "javascript" in queue.languages)
PYTHON_QUEUES = tuple(queue.name for queue in QUEUE_TABLE if "python" in queue.languages)

#: The table by name. A trace read from JSON may name a queue the table does not know (the
#: reader does not check names): callers look it up with `.get` and draw it plainly.
QUEUES_BY_NAME = {queue.name: queue for queue in QUEUE_TABLE}


def glossary_anchor(queue: str) -> str:
    """The id of a queue's row in the glossary: `queue-nexttick`, `queue-done_callback`."""
    return "queue-" + queue.lower()
