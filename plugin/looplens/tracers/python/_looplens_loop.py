"""The traced event loop: a SelectorEventLoop that knows every handle it runs.

Every callback that asyncio schedules passes through the loop's ready queue (`_ready`, a deque):
call_soon and call_soon_threadsafe append to it, and so do due timers and I/O callbacks; the loop
takes each handle with popleft() just before running it. The traced loop replaces that deque by a
subclass, so it sees each handle enter the queue (classified there: which queue, which API, which
snippet line, which context scheduled it) and start running, without wrapping any callback: no
tracer frame sits between a callback and the loop, so tracebacks stay exactly as in a plain run.

_looplens_handles.py classifies the handles; _looplens_tasks.py holds the traced Task and Future.

Private details relied on (each pinned by a test named test_private_detail_*):
- Runner creates its loop with asyncio.events.new_event_loop (when given no loop_factory);
  events._get_running_loop() says which loop runs in this thread (None if none);
- BaseEventLoop keeps ready handles in the deque `_ready` (append to queue, popleft to run, checks
  `_cancelled` after popleft), keeps timers in the heap `_scheduled`, and gives select() the time
  to the next timer as its timeout;
- call_later goes through self.call_at; TimerHandle.cancel() calls loop._timer_handle_cancelled;
  in debug mode handles record where they were made in `_source_traceback`; Unix loops keep
  `_signal_handlers`.
"""

from __future__ import annotations

import asyncio
import collections
import selectors
import threading
import weakref
from asyncio import events
from collections.abc import Callable
from contextvars import Context as ContextVars
from typing import TYPE_CHECKING, Any, TypeVarTuple

if TYPE_CHECKING:  # mypy sees this folder as the namespace package looplens.tracers.python
    from looplens.tracers.python import _looplens_clock as clock
    from looplens.tracers.python import _looplens_handles as handles
    from looplens.tracers.python._looplens_contexts import tracer
    from looplens.tracers.python._looplens_records import Context
    from looplens.tracers.python._looplens_tasks import Future, Task
else:  # the child imports its siblings from this folder, which PYTHONPATH put on sys.path
    import _looplens_clock as clock
    import _looplens_handles as handles
    from _looplens_contexts import tracer
    from _looplens_records import Context
    from _looplens_tasks import Future, Task

_Ts = TypeVarTuple("_Ts")

CLOCK = clock.VirtualClock(virtual=True)
#: The passes of the traced loops of each thread so far (by thread ident): _run_once selects once
#: per pass, before it runs the handles that are ready. Per thread, not per loop, so that a
#: second asyncio.run in the same thread goes on counting: a thread's turns never go back.
PASSES: dict[int, int] = {}


class ReadyQueue(collections.deque[Any]):
    """The loop's `_ready`: classifies handles as they enter and marks them as they start."""

    def __init__(self) -> None:
        super().__init__()
        self.contexts: dict[int, Context] = {}
        #: Timers by id, classified when set, until they become due (or are cancelled).
        self.timers: dict[int, Context] = {}

    def append(self, handle: Any) -> None:
        try:
            context = self.timers.pop(id(handle), None) or handles.ready_context(handle)
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
                handles.handle_runs(handle, context, PASSES.get(threading.get_ident(), 0))
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
        ident = threading.get_ident()
        PASSES[ident] = PASSES.get(ident, 0) + 1
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
            self._ready.timers[id(timer)] = handles.timer_context(self, when, delay)
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


def install() -> None:
    """asyncio.run, asyncio.Runner and asyncio.new_event_loop make traced loops from now on."""
    events.new_event_loop = new_event_loop
    asyncio.new_event_loop = new_event_loop
