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


QUEUE_TABLE: tuple[Queue, ...] = (
    Queue(
        name="sync",
        languages=("javascript", "python"),
        title=None,
        note="The main script itself, run top to bottom before any callback.",
        colour="#9e9e9e",
    ),
    Queue(
        name="nextTick",
        languages=("javascript",),
        title="nextTick queue",
        note="A process.nextTick callback: drained after the current callback, "
        "before promise reactions.",
        colour="#e91e63",
    ),
    Queue(
        name="microtask",
        languages=("javascript",),
        title="Microtask queue",
        note="A promise reaction (.then, the code after await) or queueMicrotask: "
        "all run before the loop moves on.",
        colour="#7c4dff",
    ),
    Queue(
        name="timers",
        languages=("javascript",),
        title="Timers",
        note="A setTimeout or setInterval callback, run in the timers phase once its delay "
        "has passed.",
        colour="#ff9800",
        timed=True,
    ),
    Queue(
        name="check",
        languages=("javascript",),
        title="Check (setImmediate)",
        note="A setImmediate callback, run in the check phase, right after polling for I/O.",
        colour="#00bcd4",
    ),
    Queue(
        name="poll",
        languages=("javascript",),
        title="Poll (I/O)",
        note="An I/O callback (files, sockets, DNS, thread-pool work), run when the operation "
        "completes.",
        colour="#4caf50",
    ),
    Queue(
        name="close",
        languages=("javascript",),
        title="Close callbacks",
        note="A close callback of a handle, such as a socket's 'close' event.",
        colour="#795548",
    ),
    Queue(
        name="task",
        languages=("python",),
        title="Ready queue: tasks",
        note="A step of an asyncio task: its coroutine runs until it really waits.",
        colour="#3f51b5",
    ),
    Queue(
        name="callback",
        languages=("python",),
        title="Ready queue: callbacks",
        note="A call_soon callback, run by the loop in the order it was scheduled.",
        # asyncio's ready queue holds task steps and callbacks alike: one colour for both.
        colour="#3f51b5",
    ),
    Queue(
        name="timer",
        languages=("python",),
        title="Timers",
        note="A call_later or call_at callback, run once its time has come.",
        # The same colour as Node's timers phase: who knows one recognises the other.
        colour="#ff9800",
        timed=True,
    ),
    Queue(
        name="done_callback",
        languages=("python",),
        title="Done callbacks",
        note="A callback added with Future.add_done_callback, run once the future is done.",
        colour="#009688",
    ),
    Queue(
        name="thread",
        languages=("python",),
        title="Threads",
        note="Printed from another thread (to_thread, run_in_executor), beside the loop.",
        colour="#8bc34a",
    ),
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
