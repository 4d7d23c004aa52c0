"""The traced Task and Future, and what the tracer reads off a task and its coroutine.

Private details relied on (each pinned by a test named test_private_detail_*):
- create_task without a factory makes `asyncio.tasks.Task`, looked up when called;
- a Task's steps are scheduled as callbacks bound to the task: the C accelerator uses a
  TaskStepMethWrapper and a builtin `task_wakeup`, the pure-Python Task the methods `__step` and
  `__wakeup` (3.12+ renamed the inner step `__step_run_and_handle_result`, still called from
  `__step`);
- an async generator's asend/athrow awaitable refers to its generator (gc.get_referents).
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import weakref
from asyncio import futures, tasks
from collections.abc import Callable
from contextvars import Context as ContextVars
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # mypy sees this folder as the namespace package looplens.tracers.python
    from looplens.tracers.python import _looplens_frames as frames
    from looplens.tracers.python._looplens_contexts import tracer
    from looplens.tracers.python._looplens_records import Context
else:  # the child imports its siblings from this folder, which PYTHONPATH put on sys.path
    import _looplens_frames as frames
    from _looplens_contexts import tracer
    from _looplens_records import Context

#: Callback names of Task steps: pure-Python Task methods, and the C accelerator's wakeup.
_STEP_NAMES = frozenset({"__step", "__wakeup", "task_wakeup"})
_GENERATOR_AWAITABLES = frozenset({"async_generator_asend", "async_generator_athrow"})


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


def task_of(callback: object) -> Any:
    """The task whose step `callback` is, or None."""
    owner = getattr(callback, "__self__", None)
    if not (futures.isfuture(owner) and hasattr(owner, "get_coro")):
        return None
    if type(callback).__name__ == "TaskStepMethWrapper":
        return owner
    return owner if getattr(callback, "__name__", None) in _STEP_NAMES else None


#: A number for each task whose step ran, in the order they first ran: which steps are of one
#: task (names may repeat) without keeping a task alive.
_NUMBERS: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()


def number_of(task: Any) -> int | None:
    """The task's number (None if it cannot be weakly referenced)."""
    try:
        number = _NUMBERS.get(task)
        if number is None:
            number = _NUMBERS[task] = len(_NUMBERS) + 1
    except TypeError:
        return None
    return number


def started(coro: Any) -> bool:
    """Whether a task's coroutine ran already (it is suspended at an await, or running)."""
    if inspect.iscoroutine(coro):
        return bool(coro.cr_suspended or coro.cr_running)
    return True


def _first_set(awaitable: Any, names: tuple[str, str, str]) -> Any:
    """The first of the attributes `names` that `awaitable` has set, or None: coroutines,
    generators and async generators name the same attribute differently (cr_, gi_, ag_)."""
    for name in names:
        value = getattr(awaitable, name, None)
        if value is not None:
            return value
    return None


def internal_awaitable(coro: Any) -> bool:
    """A coroutine of asyncio's own (or of no known code): a task that is plumbing."""
    code = _first_set(coro, ("cr_code", "gi_code", "ag_code"))
    return code is None or frames.is_internal(code.co_filename)


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
        frame: FrameType | None = _first_set(awaitable, ("cr_frame", "gi_frame", "ag_frame"))
        if frame is not None and frame.f_code.co_filename == frames.snippet():
            line = frame.f_lineno
        awaitable = _awaited(awaitable)
    return line


def _awaited(awaitable: Any) -> Any:
    inner = _first_set(awaitable, ("cr_await", "gi_yieldfrom", "ag_await"))
    if inner is not None:
        return inner
    if type(awaitable).__name__ in _GENERATOR_AWAITABLES:
        # `async for` awaits an asend object, which hides its generator but refers to it.
        return next((ref for ref in gc.get_referents(awaitable) if inspect.isasyncgen(ref)), None)
    return None


def install() -> None:
    """loop.create_task (without a task factory) makes traced tasks from now on."""
    # BaseEventLoop.create_task looks tasks.Task up when called. Not a task factory, nor an
    # override: either would add a frame to the traceback of `create_task(not_a_coroutine)`,
    # and 3.13.0 names the tasks of any factory "None". asyncio.Task stays the C class.
    tasks.Task = Task  # type: ignore[misc]
