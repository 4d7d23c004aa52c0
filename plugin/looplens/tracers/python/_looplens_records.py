"""The records the tracer writes, and the side channel they go to.

Every unit of work is a Context: the main script (id 0), a handle in an event loop's ready
queue (a Task step, a call_soon callback, a timer, a done callback), executor work, or a thread.
The tracer writes one JSON object a line to an inherited file descriptor, never to stdout:

- ``start``: the tracer runs (``python``, ``snippet``, ``virtual``).
- ``q``: a context was queued (``id``, ``queue``, ``api``, ``line``, ``parent``, ``user``,
  ``th``, the thread that queued it, and ``due``, its logical time; ``at``, when a timer was
  set). ``user`` is false for asyncio's own plumbing.
- ``run``: it starts running, at logical time ``t`` (``id``, ``th`` = thread, ``api`` for task
  steps, whose task name is final only now, ``pool`` = the thread name prefix of the executor,
  ``turn`` = for a loop handle, the pass of its loop's _run_once it runs in, ``task`` = for a
  task step, the task's number, the same for every step of one task).
- Both also say when, on the loop's clock (``us``, µs: real time plus the waits that virtual
  time jumped over, which nothing else could have used), and the run-queue delay of the thread
  that queued or ran it (``rd``, µs): what clock margins are measured from.
- ``p``: a write of ``text`` to stream ``s`` (``n`` bytes) while context ``c`` ran, at ``t``.
- ``done``: executor work ``id`` finished (its worker is free again).
- ``truncated``: the cap on recorded contexts was reached; later writes carry their ``queue``.
- ``error``: the tracer itself failed (a bug): the host refuses such a trace.

Logical times are in ms (_looplens_contexts.py says where they come from). This module is the
only one that writes to the side channel: every record passes through Recorder.emit.
"""

from __future__ import annotations

import json
import os
import platform
import threading
import time
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # mypy sees this folder as the namespace package looplens.tracers.python
    from looplens.tracers.python._looplens_schedstat import run_queue_delay_us
else:  # the child imports its siblings from this folder, which PYTHONPATH put on sys.path
    from _looplens_schedstat import run_queue_delay_us

#: Contexts recorded at most: each costs a "q" and a "run" record, so about twice as many events.
CONTEXT_LIMIT = 10_000

#: looplens.trace.MAIN_THREAD (looplens itself is not imported here).
MAIN_THREAD = "main"


@dataclass(frozen=True, slots=True)
class Context:
    id: int
    queue: str
    #: The logical time (ms) at which it became due.
    due: float = 0.0
    #: False past the context limit: no "q" or "run" record exists for it.
    recorded: bool = True


MAIN = Context(0, "sync")


@dataclass(frozen=True, slots=True)
class Queuing:
    """A context being queued, as its "q" record tells it but for its id and logical times."""

    queue: str
    #: What queued it ("call_soon", "Thread.start"); None for a task, named when its step runs.
    api: str | None
    #: The snippet line that queued it.
    line: int | None
    parent: Context
    #: False for asyncio's own plumbing.
    user: bool


def thread_label(thread: threading.Thread | None = None) -> str:
    thread = thread or threading.current_thread()
    return MAIN_THREAD if thread is threading.main_thread() else thread.name


class Channel:
    """JSON lines to the inherited descriptor; silent in forked children and once it is closed."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._pid = os.getpid()

    def write(self, record: dict[str, Any]) -> None:
        if os.getpid() != self._pid:
            return
        data = (json.dumps(record, separators=(",", ":")) + "\n").encode()
        try:
            while data:
                data = data[os.write(self._fd, data) :]
        except OSError:
            # The snippet closed the descriptor: the run goes on, its trace ends here.
            self._pid = -1


class Recorder:
    """Numbers the contexts and writes one record at a time, in the order things happened."""

    def __init__(self, channel: Channel, context_limit: int = CONTEXT_LIMIT) -> None:
        self.channel = channel
        self.context_limit = context_limit
        # Reentrant: a write can run a finalizer that writes again in the same thread.
        self.lock = threading.RLock()
        self.last_id = 0
        self.truncated = False
        self.failed = False

    def emit(self, record: dict[str, Any]) -> None:
        with self.lock:
            self.channel.write(record)

    def fail(self) -> None:
        """A bug in the tracer: say so once, and let the snippet run on untouched."""
        if not self.failed:
            self.failed = True
            self.emit({"k": "error", "text": traceback.format_exc()})

    def started(self, snippet: str, *, virtual: bool) -> None:
        self.emit(
            {
                "k": "start",
                "python": platform.python_version(),
                "snippet": snippet,
                "virtual": virtual,
            }
        )

    def queued(self, queuing: Queuing, *, now: float, due: float) -> Context:
        """A new context, queued by its parent at logical time `now`, due at `due`."""
        with self.lock:
            self.last_id += 1
            if self.last_id > self.context_limit:
                if not self.truncated:
                    self.truncated = True
                    self.channel.write({"k": "truncated"})
                return Context(self.last_id, queuing.queue, due, recorded=False)
            record: dict[str, Any] = {
                "k": "q",
                "id": self.last_id,
                "queue": queuing.queue,
                "api": queuing.api,
                "line": queuing.line,
                "parent": queuing.parent.id,
                "user": queuing.user,
                "due": due,
                "th": thread_label(),
            }
            if due != now:
                record["at"] = now
            _stamp(record)
            self.channel.write(record)
            return Context(self.last_id, queuing.queue, due)

    def ran(
        self,
        context: Context,
        t: float,
        *,
        api: str | None = None,
        thread: threading.Thread | None = None,
        pool: str | None = None,
        stamp: tuple[int, int | None] | None = None,
        turn: int | None = None,
        task: int | None = None,
    ) -> None:
        """`context` starts at logical time `t`; `stamp`: when it really started (see _stamp),
        if not now (executor work, which a worker picked up before it showed)."""
        if not context.recorded:
            return
        record: dict[str, Any] = {"k": "run", "id": context.id, "t": t, "th": thread_label(thread)}
        if api is not None:
            record["api"] = api
        if pool is not None:
            record["pool"] = pool
        if turn is not None:
            record["turn"] = turn
        if task is not None:
            record["task"] = task
        _stamp(record, stamp)
        self.emit(record)

    def printed(
        self, context: Context, stream: str, text: str, size: int, t: float, at: int | None
    ) -> None:
        record: dict[str, Any] = {
            "k": "p",
            "c": context.id,
            "s": stream,
            "text": text,
            "n": size,
            "t": t,
        }
        if at is not None:
            record["at"] = at
        if not context.recorded:
            record["queue"] = context.queue
        self.emit(record)

    def work_done(self, context: Context) -> None:
        if context.recorded:
            self.emit({"k": "done", "id": context.id})


def stamp_now() -> tuple[int, int | None]:
    """The loop's clock (µs; time.monotonic_ns is virtual once the tracer's clock is installed)
    and this thread's run-queue delay (µs, None if unknown)."""
    return time.monotonic_ns() // 1000, run_queue_delay_us()


def _stamp(record: dict[str, Any], stamp: tuple[int, int | None] | None = None) -> None:
    us, delay = stamp if stamp is not None else stamp_now()
    record["us"] = us
    if delay is not None:
        record["rd"] = delay
