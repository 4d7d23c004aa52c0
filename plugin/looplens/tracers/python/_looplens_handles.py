"""Classify a loop handle: which queue it waits in, which API queued it, from which snippet line
and which context, and whether it is the snippet's own work or asyncio's plumbing.

The traced loop calls these while a handle enters its ready queue (or a timer is set), from the
frame of the scheduling call, and again when the handle starts running.

A private detail relied on (pinned by
test_private_detail_handles_enter_ready_with_append_and_leave_with_popleft): a handle has
`_callback` and `_args`.
"""

from __future__ import annotations

from asyncio import futures
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # mypy sees this folder as the namespace package looplens.tracers.python
    from looplens.tracers.python import _looplens_frames as frames
    from looplens.tracers.python import _looplens_tasks as tasks
    from looplens.tracers.python._looplens_contexts import tracer
    from looplens.tracers.python._looplens_loop import TracingLoop
    from looplens.tracers.python._looplens_records import Context
else:  # the child imports its siblings from this folder, which PYTHONPATH put on sys.path
    import _looplens_frames as frames
    import _looplens_tasks as tasks
    from _looplens_contexts import tracer
    from _looplens_records import Context


def ready_context(handle: Any) -> Context:
    """The context of a handle that enters the ready queue (called from ReadyQueue.append)."""
    trace = tracer()
    frame = frames.outer_frame(2)
    callback, args = handle._callback, handle._args
    # What hands an executor's result to the loop carries the concurrent future: it comes from
    # that work, whichever thread schedules it (the worker, or the loop if the work was done
    # before asyncio wrapped its future).
    parent = next(filter(None, map(trace.work_of, args)), None) or trace.current()
    task = tasks.task_of(callback)
    if task is not None:
        coro = task.get_coro()
        line = tasks.await_line(coro) if tasks.started(coro) else frames.snippet_line(frame)
        return trace.schedule("task", None, line, parent, user=not tasks.internal_awaitable(coro))
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
    if future is not None and _collects_in_completion_order(callback):
        # What as_completed hands out next is whichever future completed first: this callback
        # is where the order of completions becomes the order of results.
        return trace.schedule("callback", "as_completed", None, parent, user=False)
    if api is None:
        # Not call_soon: I/O readiness or a signal handler, added by the loop itself.
        name = frame.f_code.co_name if frame is not None else ""
        api = "signal" if "signal" in name else "I/O"
        return trace.schedule("callback", api, None, parent, user=_user_callable(callback))
    line = frames.snippet_line(frame)
    return trace.schedule("callback", api, line, parent, user=frames.caller_is_user(caller))


def timer_context(loop: TracingLoop, when: float, delay: float | None) -> Context:
    """The context of a timer being set (called from TracingLoop.call_at); `delay` is the one
    given to call_later, None for call_at."""
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


def handle_runs(handle: Any, context: Context, turn: int) -> None:
    """A handle starts running, in pass `turn` of its loop: a task step is named after its
    task, final only now."""
    api = None
    number = None
    if context.queue == "task":
        task = tasks.task_of(handle._callback)
        if task is not None:
            api = f"{task.get_name()} step ({tasks.coroutine_name(task.get_coro())})"
            number = tasks.number_of(task)
            if isinstance(task, tasks.Task):
                task._looplens_last = context
    tracer().step_runs(context, api, turn, number)


#: The done callbacks of asyncio.as_completed (3.11, 3.12: a closure; 3.13: a method of its
#: iterator), by qualified name (pinned by
#: test_private_detail_as_completed_collects_with_a_done_callback).
_COMPLETION_ORDER_COLLECTORS = frozenset(
    {"as_completed.<locals>._on_completion", "_AsCompletedIterator._handle_completion"}
)


def _collects_in_completion_order(callback: Any) -> bool:
    function = getattr(callback, "__func__", callback)
    return (
        getattr(function, "__module__", None) == "asyncio.tasks"
        and getattr(function, "__qualname__", None) in _COMPLETION_ORDER_COLLECTORS
    )


def _user_callable(callback: Any) -> bool:
    while hasattr(callback, "func"):  # functools.partial
        callback = callback.func
    callback = getattr(callback, "__func__", callback)
    code = getattr(callback, "__code__", None)
    return code is not None and not frames.is_internal(code.co_filename)
