"""Where running code comes from: the snippet, asyncio's own machinery, or the tracer itself,
and which executor work item a thread runs.

Part of the looplens asyncio tracer, which runs inside the snippet's process: standard library only,
and no import of looplens (the package may not even be importable from the snippet's interpreter).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import selectors
import sys
import threading
from concurrent.futures import thread as concurrent_thread
from pathlib import Path
from types import FrameType
from typing import Any


def _folder(module_file: str | None) -> str:
    return str(Path(module_file or "").parent) + os.sep


TRACER_DIR = _folder(__file__)
ASYNCIO_DIR = _folder(asyncio.__file__)
_INTERNAL_DIRS = (ASYNCIO_DIR, _folder(concurrent.futures.__file__), TRACER_DIR)
_INTERNAL_FILES = frozenset(module.__file__ for module in (threading, selectors))

#: The methods of asyncio that hand work to a queue, by the name that the trace shows: walking
#: out of a scheduling call, the outermost of these names the API; the frame beyond is the caller.
_MECHANISM = frozenset(
    {
        "call_soon",
        "_call_soon",
        "call_soon_threadsafe",
        "call_later",
        "call_at",
        "run_in_executor",
        "to_thread",
    }
)

#: The frame of an executor's work item running a function in a worker thread; its `self` says
#: which submission the thread works on (pinned by
#: test_private_detail_executor_runs_work_in_a_work_item_frame).
_WORK_ITEM_RUN = concurrent_thread._WorkItem.run.__code__
_EXECUTOR_FILE = _WORK_ITEM_RUN.co_filename

_snippet = ""


def set_snippet(path: str) -> None:
    global _snippet
    _snippet = path


def snippet() -> str:
    return _snippet


def is_tracer_file(filename: str) -> bool:
    return filename.startswith(TRACER_DIR)


def is_internal(filename: str) -> bool:
    """Code of asyncio, concurrent.futures, threading or the tracer: plumbing, not the snippet's."""
    return filename.startswith(_INTERNAL_DIRS) or filename in _INTERNAL_FILES


def snippet_line(frame: FrameType | None) -> int | None:
    """The line that the innermost frame of the snippet file in this stack is running."""
    while frame is not None:
        if frame.f_code.co_filename == _snippet:
            return frame.f_lineno
        frame = frame.f_back
    return None


def scheduling_call(frame: FrameType | None) -> tuple[str | None, FrameType | None]:
    """(API, caller) of a scheduling call that reaches `frame` (a hook inside the tracer).

    The API is the outermost asyncio scheduling method on the way out ("call_soon" for
    `_call_soon`, "to_thread" for the run_in_executor inside it); the caller is the frame that
    called it, which tells the snippet's own calls from asyncio's plumbing.
    """
    api: str | None = None
    while frame is not None:
        code = frame.f_code
        if is_tracer_file(code.co_filename):
            pass
        elif code.co_filename.startswith(ASYNCIO_DIR) and code.co_name in _MECHANISM:
            api = code.co_name.lstrip("_")
        else:
            return api, frame
        frame = frame.f_back
    return api, None


def caller_is_user(frame: FrameType | None) -> bool:
    return frame is not None and not is_internal(frame.f_code.co_filename)


def outer_frame(depth: int) -> FrameType | None:
    """sys._getframe(depth + 1) that tolerates a shallow stack."""
    try:
        return sys._getframe(depth + 1)
    except ValueError:
        return None


def work_item(frame: FrameType | None) -> Any:
    """The executor work item that runs `frame`'s stack, if any."""
    while frame is not None:
        if frame.f_code is _WORK_ITEM_RUN:
            return frame.f_locals.get("self")
        frame = frame.f_back
    return None


def in_work_item_elsewhere(ident: int | None) -> bool:
    """Whether a thread other than `ident` runs inside an executor work item now."""
    for thread, frame in sys._current_frames().items():
        walking: FrameType | None = frame
        while thread != ident and walking is not None:
            if walking.f_code is _WORK_ITEM_RUN:
                return True
            walking = walking.f_back
    return False


def is_executor_file(frame: FrameType | None) -> bool:
    """Code of concurrent.futures.thread: what starts an executor's workers (pinned by
    test_private_detail_executor_starts_its_workers_from_its_own_module)."""
    return frame is not None and frame.f_code.co_filename == _EXECUTOR_FILE
