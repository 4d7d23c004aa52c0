"""The traced event loop: a SelectorEventLoop that knows every handle it runs.

Every callback that asyncio schedules passes through the loop's ready queue (`_ready`, a deque):
call_soon and call_soon_threadsafe append to it, and so do due timers and I/O callbacks; the loop
takes each handle with popleft() just before running it. The traced loop replaces that deque by a
subclass, so it sees each handle enter the queue (classified there: which queue, which API, which
snippet line, which context scheduled it) and start running, without wrapping any callback: no
tracer frame sits between a callback and the loop, so tracebacks stay exactly as in a plain run.

Private details relied on (each pinned by a test named test_private_detail_*):
- Runner creates its loop with asyncio.events.new_event_loop (when given no loop_factory);
  events._get_running_loop() says which loop runs in this thread (None if none);
- BaseEventLoop keeps ready handles in the deque `_ready` (append to queue, popleft to run, checks
  `_cancelled` after popleft; a handle has `_callback` and `_args`), keeps timers in the heap
  `_scheduled`, and gives select() the time to the next timer as its timeout;
- call_later goes through self.call_at; TimerHandle.cancel() calls loop._timer_handle_cancelled;
  create_task without a factory makes `asyncio.tasks.Task`, looked up when called; in debug mode
  handles record where they were made in `_source_traceback`; Unix loops keep `_signal_handlers`;
- a Task's steps are scheduled as callbacks bound to the task: the C accelerator uses a
  TaskStepMethWrapper and a builtin `task_wakeup`, the pure-Python Task the methods `__step` and
  `__wakeup` (3.12+ renamed the inner step `__step_run_and_handle_result`, still called from
  `__step`);
- an async generator's asend/athrow awaitable refers to its generator (gc.get_referents).
"""

from __future__ import annotations

import asyncio
import collections
import gc
import inspect
import selectors
import weakref
from asyncio import events, futures, tasks
from collections.abc import Callable
from contextvars import Context as ContextVars
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVarTuple

if TYPE_CHECKING:  # mypy sees this folder as the namespace package looplens.tracers.python
    from looplens.tracers.python import _looplens_clock as clock
    from looplens.tracers.python import _looplens_frames as frames
    from looplens.tracers.python._looplens_state import Context, tracer
else:  # the child imports its siblings from this folder, which PYTHONPATH put on sys.path
    import _looplens_clock as clock
    import _looplens_frames as frames
    from _looplens_state import Context, tracer

_Ts = TypeVarTuple("_Ts")

#: Callback names of Task steps: pure-Python Task methods, and the C accelerator's wakeup.
_STEP_NAMES = frozenset({"__step", "__wakeup", "task_wakeup"})
_GENERATOR_AWAITABLES = frozenset({"async_generator_asend", "async_generator_athrow"})

CLOCK = clock.VirtualClock(virtual=True)


class _RecordsDoneCallbacks:
    """add_done_callback that records the callbacks a snippet adds, for Task and Future alike."""

    __slots__ = ()

    def add_done_callback(
        self, fn: Callable[[Any], object], *, context: ContextVars | None = None
    ) -> None:
        _done_callback_added(self, fn)
        if context is None:
            # Not context=None: the C Future would keep None and copy the context only later.
            super().add_done_callback(fn)  # type: ignore[misc]
        else:
            super().add_done_callback(fn, context=context)  # type: ignore[misc]


class Task(_RecordsDoneCallbacks, asyncio.Task[Any]):
    """asyncio's (C) Task, plus the record of its last step and of done callbacks added by the
    snippet. Named like the original: asyncio prints the class name ("Task exception was never
    retrieved", reprs)."""

    __slots__ = ("_looplens_last",)
    _looplens_last: Context


class Future(_RecordsDoneCallbacks, asyncio.Future[Any]):
    """The Future of loop.create_future(): records done callbacks added by the snippet."""

    __slots__ = ()


# type(task) reads like the original too.
Task.__module__ = asyncio.Task.__module__
Future.__module__ = asyncio.Future.__module__


def _done_callback_added(future: object, callback: object) -> None:
    try:
        tracer().done_callback_added(future, callback, frames.outer_frame(2))
    except Exception:
        tracer().fail()


class ReadyQueue(collections.deque[Any]):
    """The loop's `_ready`: classifies handles as they enter and marks them as they start."""

    def __init__(self) -> None:
        super().__init__()
        self.contexts: dict[int, Context] = {}
        #: Timers by id, classified when set, until they become due (or are cancelled).
        self.timers: dict[int, Context] = {}

    def append(self, handle: Any) -> None:
        try:
            context = self.timers.pop(id(handle), None) or _ready_context(handle)
        except Exception:
            tracer().fail()
        else:
            self.contexts[id(handle)] = context
        super().append(handle)

    def popleft(self) -> Any:
        handle = super().popleft()
        context = self.contexts.pop(id(handle), None)
        if context is not None and not handle._cancelled:
            try:
                _runs(handle, context)
            except Exception:
                tracer().fail()
        return handle

    def clear(self) -> None:
        self.contexts.clear()
        super().clear()


class VirtualTimeSelector(selectors.DefaultSelector):
    """Jumps the clock instead of waiting, when only timers can end the wait.

    A jump goes to the first timer, and on to the last one that is logically due by then:
    timers set at the same logical time (sleep(0.1) in two tasks) got real due times a few µs
    (or, on a busy machine, ms) apart; a real select() oversleeps enough to wake them together,
    and so does the jump, every time. Timers logically later are left for later jumps.
    """

    def attach(self, loop: TracingLoop) -> None:
        self._looplens_loop = weakref.ref(loop)
        # The loop's self-pipe is registered already; any other file means real I/O.
        self._looplens_files = len(self.get_map())

    def may_jump(self) -> bool:
        loop = self._looplens_loop()
        return (
            CLOCK.virtual
            and loop is not None
            and len(self.get_map()) <= self._looplens_files
            # Unix loops keep signal handlers here: a signal may come at any real time.
            and not getattr(loop, "_signal_handlers", None)
            and tracer().threads_quiet()
        )

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        loop = self._looplens_loop()
        if timeout is None or timeout <= 0 or loop is None or not self.may_jump():
            return super().select(timeout)
        # Other threads are quiet: what they handed over (call_soon_threadsafe, after the loop
        # chose this timeout) is in the self-pipe already, and wakes the loop as it would have.
        ready = super().select(0)
        if not ready:
            CLOCK.advance(max(_jump_target(loop) - loop.time(), timeout))
        return ready


def _jump_target(loop: TracingLoop) -> float:
    """The loop time at which every timer logically due with the first one is due."""
    # The loop's heap of timers (pinned by test_private_detail_timers_wait_in_a_heap).
    timers: list[events.TimerHandle] = loop._scheduled  # type: ignore[attr-defined]
    contexts = loop._ready.timers
    first = contexts.get(id(timers[0]))
    if first is None:
        return timers[0].when()
    due = [
        timer.when()
        for timer in timers
        if not timer.cancelled()
        and (context := contexts.get(id(timer))) is not None
        and context.due <= first.due
    ]
    return max(due, default=timers[0].when())


class TracingLoop(asyncio.SelectorEventLoop):
    _looplens_traced = True

    def __init__(self) -> None:
        selector = VirtualTimeSelector()
        super().__init__(selector)
        selector.attach(self)
        self._looplens_selector = selector
        # Still empty: BaseEventLoop.__init__ made it, nothing was scheduled yet.
        self._ready = ReadyQueue()
        self._looplens_delay: float | None = None

    def time(self) -> float:
        return CLOCK.monotonic()

    def create_future(self) -> Future:
        return Future(loop=self)

    def call_later(
        self,
        delay: float,
        callback: Callable[[*_Ts], object],
        *args: *_Ts,
        context: ContextVars | None = None,
    ) -> events.TimerHandle:
        # Passed on to call_at, so that the trace has the exact delay, not one measured back.
        self._looplens_delay = delay
        try:
            timer = super().call_later(delay, callback, *args, context=context)
        finally:
            self._looplens_delay = None
        # Debug mode: drop this frame from where the timer was made, as the base method drops its.
        _drop_own_frame(timer)
        return timer

    def call_at(
        self,
        when: float,
        callback: Callable[[*_Ts], object],
        *args: *_Ts,
        context: ContextVars | None = None,
    ) -> events.TimerHandle:
        delay = self._looplens_delay
        self._looplens_delay = None
        timer = super().call_at(when, callback, *args, context=context)
        _drop_own_frame(timer)
        try:
            self._ready.timers[id(timer)] = _timer_context(self, when, delay)
        except Exception:
            tracer().fail()
        return timer

    def _timer_handle_cancelled(self, handle: events.TimerHandle) -> None:
        self._ready.timers.pop(id(handle), None)
        super()._timer_handle_cancelled(handle)  # type: ignore[misc]  # private, not in typeshed

    def call_exception_handler(self, context: dict[str, Any]) -> None:
        # "Task exception was never retrieved" and its kind are printed whenever the task is
        # collected; they belong to that task's last step, not to whatever runs then.
        owner = context.get("task", context.get("future"))
        last = getattr(owner, "_looplens_last", None) if isinstance(owner, Task) else None
        if last is None:
            super().call_exception_handler(context)
            return
        with tracer().attributed_to(last):
            super().call_exception_handler(context)


def _drop_own_frame(timer: Any) -> None:
    """Debug mode records where a timer was made: hide the tracer's frame there."""
    if timer._source_traceback:
        del timer._source_traceback[-1]


def new_event_loop() -> TracingLoop:
    return TracingLoop()


def may_skip_sleep() -> bool:
    """time.sleep() may jump in the thread of a running traced loop that only waits for timers."""
    loop = events._get_running_loop()
    selector = getattr(loop, "_looplens_selector", None)
    return isinstance(selector, VirtualTimeSelector) and selector.may_jump()


# -- classification ------------------------------------------------------------------------------


def task_of(callback: object) -> Any:
    """The task whose step `callback` is, or None."""
    owner = getattr(callback, "__self__", None)
    if not (futures.isfuture(owner) and hasattr(owner, "get_coro")):
        return None
    if type(callback).__name__ == "TaskStepMethWrapper":
        return owner
    return owner if getattr(callback, "__name__", None) in _STEP_NAMES else None


def _ready_context(handle: Any) -> Context:
    trace = tracer()
    frame = frames.outer_frame(2)
    callback, args = handle._callback, handle._args
    # What hands an executor's result to the loop carries the concurrent future: it comes from
    # that work, whichever thread schedules it (the worker, or the loop if the work was done
    # before asyncio wrapped its future).
    parent = next(filter(None, map(trace.work_of, args)), None) or trace.current()
    task = task_of(callback)
    if task is not None:
        coro = task.get_coro()
        line = await_line(coro) if _started(coro) else frames.snippet_line(frame)
        return trace.schedule("task", None, line, parent, user=not _internal_awaitable(coro))
    api, caller = frames.scheduling_call(frame)
    future = args[0] if len(args) == 1 and futures.isfuture(args[0]) else None
    if future is not None and future.done() and api == "call_soon":
        # A future schedules its done callbacks with call_soon(callback, future).
        key = (id(future), id(callback))
        if key in trace.done_callbacks:
            line = trace.done_callbacks.pop(key)
            return trace.schedule("done_callback", "add_done_callback", line, parent, user=True)
        if _user_callable(callback):
            # A future that the snippet made itself (asyncio.Future()): the line that completed it.
            line = frames.snippet_line(frame)
            return trace.schedule("done_callback", "add_done_callback", line, parent, user=True)
    if api is None:
        # Not call_soon: I/O readiness or a signal handler, added by the loop itself.
        name = frame.f_code.co_name if frame is not None else ""
        api = "signal" if "signal" in name else "I/O"
        return trace.schedule("callback", api, None, parent, user=_user_callable(callback))
    line = frames.snippet_line(frame)
    return trace.schedule("callback", api, line, parent, user=frames.caller_is_user(caller))


def _timer_context(loop: TracingLoop, when: float, delay: float | None) -> Context:
    trace = tracer()
    api, caller = frames.scheduling_call(frames.outer_frame(2))
    if delay is not None:
        # call_later: the delay as given (µs resolution), exactly.
        ms = round(max(float(delay), 0.0) * 1000, 3)
    else:
        # call_at: the caller read loop.time() a moment ago; whole ms hide that moment.
        ms = float(max(round((when - loop.time()) * 1000), 0))
    return trace.schedule(
        "timer",
        api or "call_at",
        frames.snippet_line(caller),
        trace.current(),
        user=frames.caller_is_user(caller),
        delay=ms,
    )


def _runs(handle: Any, context: Context) -> None:
    api = None
    if context.queue == "task":
        task = task_of(handle._callback)
        if task is not None:
            api = f"{task.get_name()} step ({coroutine_name(task.get_coro())})"
            if isinstance(task, Task):
                task._looplens_last = context
    tracer().step_runs(context, api)


def _started(coro: Any) -> bool:
    if inspect.iscoroutine(coro):
        return bool(coro.cr_suspended or coro.cr_running)
    return True


def _code_of(awaitable: Any) -> Any:
    for name in ("cr_code", "gi_code", "ag_code"):
        code = getattr(awaitable, name, None)
        if code is not None:
            return code
    return None


def _internal_awaitable(coro: Any) -> bool:
    code = _code_of(coro)
    return code is None or frames.is_internal(code.co_filename)


def _user_callable(callback: Any) -> bool:
    while hasattr(callback, "func"):  # functools.partial
        callback = callback.func
    callback = getattr(callback, "__func__", callback)
    code = getattr(callback, "__code__", None)
    return code is not None and not frames.is_internal(code.co_filename)


def coroutine_name(coro: Any) -> str:
    name = getattr(coro, "__qualname__", None) or type(coro).__name__
    return str(name).rsplit(".<locals>.", 1)[-1]


def await_line(coro: Any) -> int | None:
    """The line of the innermost `await` in the snippet that the coroutine is suspended at."""
    line = None
    awaitable = coro
    for _ in range(200):  # a cycle-proof bound on the await chain
        if awaitable is None:
            break
        frame: FrameType | None = None
        for name in ("cr_frame", "gi_frame", "ag_frame"):
            frame = getattr(awaitable, name, None)
            if frame is not None:
                break
        if frame is not None and frame.f_code.co_filename == frames.snippet():
            line = frame.f_lineno
        awaitable = _awaited(awaitable)
    return line


def _awaited(awaitable: Any) -> Any:
    for name in ("cr_await", "gi_yieldfrom", "ag_await"):
        inner = getattr(awaitable, name, None)
        if inner is not None:
            return inner
    if type(awaitable).__name__ in _GENERATOR_AWAITABLES:
        # `async for` awaits an asend object, which hides its generator but refers to it.
        return next((ref for ref in gc.get_referents(awaitable) if inspect.isasyncgen(ref)), None)
    return None


def install() -> None:
    """asyncio.run, asyncio.Runner and asyncio.new_event_loop make traced loops from now on,
    and loop.create_task (without a task factory) makes traced tasks."""
    events.new_event_loop = new_event_loop
    asyncio.new_event_loop = new_event_loop
    # BaseEventLoop.create_task looks tasks.Task up when called. Not a task factory, nor an
    # override: either would add a frame to the traceback of `create_task(not_a_coroutine)`,
    # and 3.13.0 names the tasks of any factory "None". asyncio.Task stays the C class.
    tasks.Task = Task  # type: ignore[misc]
