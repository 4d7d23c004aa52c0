"""What the tracer knows while the snippet runs: which context runs now, and at what logical time.

A context (_looplens_records.Context) is a unit of work: the main script, a loop handle,
executor work or a thread. The Tracer tells which one the code running now belongs to, keeps the
logical clocks, and follows threads and executor work; its Recorder writes what it learns.

Logical time (ms) comes from requested delays and the causal chain, never from a clock reading,
so that two runs of a snippet give the same numbers. A context is due at the logical time of the
context that queued it, plus its delay for a timer. A loop callback runs at max(its thread's
clock, its due time), and that thread's clock moves there: sleep(0.1) wakes at 100. time.sleep()
moves the clock of whatever calls it by the time asked for: blocking the loop for 0.5 s shows as
500 ms. Executor work and threads run in real time, which is never shown: each starts at the
logical time it was submitted and keeps its own clock, moved only by its own time.sleep() calls;
what it hands back to the loop is due at that clock.

The tracer holds no strong reference to tasks, futures, handles or frames: keeping one alive would
change when asyncio's "Task exception was never retrieved" and the like are printed.
"""

from __future__ import annotations

import threading
import weakref
from asyncio import events
from collections.abc import Iterator
from concurrent.futures import Future as ConcurrentFuture
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # mypy sees this folder as the namespace package looplens.tracers.python
    from looplens.tracers.python import _looplens_frames as frames
    from looplens.tracers.python._looplens_records import (
        MAIN,
        Context,
        Queuing,
        Recorder,
        stamp_now,
    )
else:  # the child imports its siblings from this folder, which PYTHONPATH put on sys.path
    import _looplens_frames as frames
    from _looplens_records import MAIN, Context, Queuing, Recorder, stamp_now


def logical(ms: float) -> float:
    """Logical times keep µs: sums of float delays must not show 300.00000000000006."""
    return round(ms, 3)


@dataclass(eq=False, slots=True)
class Activity:
    """Executor work or a thread: its context, and its own logical clock once it started."""

    context: Context
    #: For executor work: the executor's thread name prefix ("asyncio" for the default one).
    pool: str | None = None
    started: bool = False
    now: float = 0.0
    #: For executor work: when a worker picked it up (loop clock µs, that worker's run-queue
    #: delay µs), which may be before anything shows that it started.
    picked_up: tuple[int, int | None] | None = None


class Tracer:
    def __init__(self, records: Recorder) -> None:
        self.records = records
        # The recorder's: one lock orders the records and guards what follows.
        self.lock = records.lock
        self.local = threading.local()
        self.main_thread = threading.main_thread()
        #: Logical clocks of the threads that run loop callbacks (and the main script), by ident.
        self.clocks: dict[int, float] = {}
        #: (id(future), id(callback)) -> line of a done callback that snippet code registered.
        self.done_callbacks: dict[tuple[int, int], int | None] = {}
        #: Executor work and threads, by context id: they keep their own clocks.
        self.activities: dict[int, Activity] = {}
        self.work: weakref.WeakKeyDictionary[ConcurrentFuture[Any], Activity] = (
            weakref.WeakKeyDictionary()
        )
        self.threads: weakref.WeakKeyDictionary[threading.Thread, Activity] = (
            weakref.WeakKeyDictionary()
        )
        #: Threads that may wake the loop later (not executor workers, which are idle between
        #: submissions): real time runs while one of them is alive.
        self.live_threads: weakref.WeakSet[threading.Thread] = weakref.WeakSet()
        self.pending_work = 0

    def fail(self) -> None:
        """A bug in the tracer: say so once, and let the snippet run on untouched."""
        self.records.fail()

    def schedule(
        self,
        queue: str,
        api: str | None,
        line: int | None,
        parent: Context,
        *,
        user: bool,
        delay: float = 0.0,
    ) -> Context:
        """A new context, queued now by `parent`, due `delay` ms after the parent's now."""
        queuing = Queuing(queue, api, line, parent, user)
        with self.lock:
            now = self.now(parent)
            return self.records.queued(queuing, now=now, due=logical(now + delay))

    # -- logical time ---------------------------------------------------------------------------

    def _clock_key(self) -> int:
        """The clock that loop callbacks and the main script use in this thread."""
        ident = threading.get_ident()
        return ident if ident in self.clocks else self.main_thread.ident or 0

    def now(self, context: Context) -> float:
        """The logical time of `context` now: its own clock, or its thread's."""
        activity = self.activities.get(context.id)
        if activity is not None:
            return activity.now
        return self.clocks.get(self._clock_key(), 0.0)

    def step_runs(
        self, context: Context, api: str | None, turn: int, task: int | None = None
    ) -> None:
        """A loop handle starts in this thread, in pass `turn` of its loop (a step of task
        number `task`, if one): what runs until the next one belongs to it."""
        self.local.step = context
        ident = threading.get_ident()
        t = max(self.clocks.get(ident, 0.0), context.due)
        self.clocks[ident] = t
        self.records.ran(context, t, api=api, turn=turn, task=task)

    def slept(self, seconds: float) -> None:
        """time.sleep() moves the logical clock of what called it."""
        ms = seconds * 1000
        with self.lock:
            activity = self.activities.get(self.current().id)
            if activity is not None:
                activity.now = logical(activity.now + ms)
            else:
                key = self._clock_key()
                self.clocks[key] = logical(self.clocks.get(key, 0.0) + ms)

    # -- what runs now ------------------------------------------------------------------------

    def current(self) -> Context:
        """The context that code running now in this thread belongs to."""
        attributed: Context | None = getattr(self.local, "attributed", None)
        if attributed is not None:
            return attributed
        loop = events._get_running_loop()
        if loop is not None and getattr(loop, "_looplens_traced", False):
            step: Context | None = getattr(self.local, "step", None)
            if step is not None:
                return step
        thread = threading.current_thread()
        if thread is self.main_thread:
            return MAIN
        return self._thread_context(thread)

    @contextmanager
    def attributed_to(self, context: Context) -> Iterator[None]:
        previous = getattr(self.local, "attributed", None)
        self.local.attributed = context
        try:
            yield
        finally:
            self.local.attributed = previous

    def _thread_context(self, thread: threading.Thread) -> Context:
        item = frames.work_item(frames.outer_frame(1))
        # Under the lock: the submitting thread holds it until the submission is registered.
        with self.lock:
            work = None if item is None else self.work.get(item.future)
        if work is not None:
            self._start(work, thread)
            return work.context
        with self.lock:
            activity = self.threads.get(thread)
            if activity is None:
                # A thread that the snippet did not start itself (asyncio's, or started before
                # the tracer): plumbing, shown only if it prints.
                activity = self._activity(self.schedule("thread", "thread", None, MAIN, user=False))
                self.threads[thread] = activity
        self._start(activity, thread)
        return activity.context

    def _activity(self, context: Context, pool: str | None = None) -> Activity:
        activity = Activity(context, pool)
        self.activities[context.id] = activity
        return activity

    def _start(self, activity: Activity, thread: threading.Thread) -> None:
        with self.lock:
            if activity.started:
                return
            activity.started = True
            activity.now = activity.context.due
        self.records.ran(
            activity.context,
            activity.now,
            thread=thread,
            pool=activity.pool,
            stamp=activity.picked_up,
        )

    # -- threads and executor work --------------------------------------------------------------

    def thread_starts(self, thread: threading.Thread) -> None:
        """Called by the patched Thread.start, in the starting thread, before the thread runs."""
        frame = frames.outer_frame(2)
        while frame is not None and frames.is_tracer_file(frame.f_code.co_filename):
            frame = frame.f_back
        if frames.is_executor_file(frame):
            # An executor's worker: idle most of the time; its work is traced per submission.
            return
        with self.lock:
            self.live_threads.add(thread)
        if not frames.caller_is_user(frame):
            return
        parent = self.current()
        line = frames.snippet_line(frame)
        with self.lock:
            context = self.schedule("thread", "Thread.start", line, parent, user=True)
            self.threads[thread] = self._activity(context)

    def thread_started(self, thread: threading.Thread) -> None:
        """After Thread.start: a silent thread still shows that it ran."""
        activity = self.threads.get(thread)
        if activity is not None:
            self._start(activity, thread)

    def work_submitted(self, future: ConcurrentFuture[Any], pool: str) -> None:
        """Called by the patched ThreadPoolExecutor.submit, under the lock, before any worker can
        look the submission up; `pool` is the executor's thread name prefix."""
        api, caller = frames.scheduling_call(frames.outer_frame(2))
        line = frames.snippet_line(caller)
        context = self.schedule(
            "thread", api or "submit", line, self.current(), user=frames.caller_is_user(caller)
        )
        self.work[future] = self._activity(context, pool)
        self.pending_work += 1
        future.add_done_callback(self._work_done)

    def work_picked_up(self, future: ConcurrentFuture[Any]) -> None:
        """Called by the patched work item, in the worker, as it starts the submission."""
        stamp = stamp_now()
        with self.lock:
            activity = self.work.get(future)
            if activity is not None:
                activity.picked_up = stamp

    def work_of(self, future: object) -> Context | None:
        """The context of the executor work behind a concurrent future, if the tracer saw it."""
        if not isinstance(future, ConcurrentFuture):
            return None
        with self.lock:
            activity = self.work.get(future)
        return None if activity is None else activity.context

    def _work_done(self, future: ConcurrentFuture[Any]) -> None:
        try:
            with self.lock:
                self.pending_work -= 1
                activity = self.work.get(future)
            if activity is None:
                return
            # Silent work still shows that it ran: in its worker, or, if it was done before
            # its submission was registered, where this callback runs now.
            self._start(activity, threading.current_thread())
            self.records.work_done(activity.context)
        except Exception:
            self.fail()

    def threads_quiet(self) -> bool:
        """No other thread can wake the loop any more: no executor work pending or being handed
        over, no thread alive. Whatever they handed over already is in the loop's self-pipe."""
        current = threading.current_thread()
        with self.lock:
            if self.pending_work:
                return False
            threads = list(self.live_threads)
        if any(thread.is_alive() and thread is not current for thread in threads):
            return False
        # A worker hands its result over (call_soon_threadsafe) from a done callback, after its
        # work is done: it is busy until it leaves the work item.
        return not frames.in_work_item_elsewhere(current.ident)

    # -- writes -------------------------------------------------------------------------------

    def printed(self, stream: str, text: str, size: int, at: int | None = None) -> None:
        """A write of the snippet's; `at`: the snippet's line that made it (print's caller)."""
        context = self.current()
        self.records.printed(context, stream, text, size, self.now(context), at)

    def done_callback_added(
        self, future: object, callback: object, frame: FrameType | None
    ) -> None:
        if frames.caller_is_user(frame):
            self.done_callbacks[id(future), id(callback)] = frames.snippet_line(frame)


TRACER: Tracer | None = None


def tracer() -> Tracer:
    if TRACER is None:
        raise RuntimeError("the looplens tracer is not installed")
    return TRACER


def install(records: Recorder) -> Tracer:
    global TRACER
    TRACER = Tracer(records)
    return TRACER
