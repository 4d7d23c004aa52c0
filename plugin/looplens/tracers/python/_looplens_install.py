"""Install the tracer in this process, before the interpreter runs the snippet as __main__.

sitecustomize.py calls install() while `site` initializes: sys.argv and the standard streams
exist, the snippet has not started. The interpreter then runs the snippet itself, exactly as
`python FILE` does: same __main__ module, sys.path, tracebacks, exit status and finalization,
and no tracer frame below the snippet's own in any stack it prints.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import thread as concurrent_thread
from typing import TYPE_CHECKING, Any, ParamSpec, TextIO, TypeVar

if TYPE_CHECKING:  # mypy sees this folder as the namespace package looplens.tracers.python
    from looplens.tracers.python import _looplens_clock as clock
    from looplens.tracers.python import _looplens_contexts as contexts
    from looplens.tracers.python import _looplens_frames as frames
    from looplens.tracers.python import _looplens_loop as loop
    from looplens.tracers.python import _looplens_records as records
    from looplens.tracers.python import _looplens_sandbox as sandbox
    from looplens.tracers.python import _looplens_tasks as tasks
else:  # the child imports its siblings from this folder, put on sys.path by PYTHONPATH
    import _looplens_clock as clock
    import _looplens_contexts as contexts
    import _looplens_frames as frames
    import _looplens_loop as loop
    import _looplens_records as records
    import _looplens_sandbox as sandbox
    import _looplens_tasks as tasks

P = ParamSpec("P")
T = TypeVar("T")

FD_VARIABLE = "LOOPLENS_TRACE_FD"
VIRTUAL_TIME_VARIABLE = "LOOPLENS_VIRTUAL_TIME"
TRACE_LIMIT_VARIABLE = "LOOPLENS_TRACE_LIMIT"


class TracedStream:
    """sys.stdout / sys.stderr: every write is recorded with what ran it, then passed on as is."""

    def __init__(self, stream: TextIO, name: str, tracer: contexts.Tracer) -> None:
        self._looplens_stream = stream
        self._looplens_name = name
        self._looplens_tracer = tracer

    def write(self, text: str) -> int:
        tracer = self._looplens_tracer
        stream = self._looplens_stream
        # One lock for the write and its record: the records keep the real order of the writes
        # across threads and across the two streams.
        with tracer.lock:
            written = stream.write(text)
            try:
                size = len(text.encode(stream.encoding, stream.errors or "strict"))
                # The snippet's line that printed (print's caller, or a write's), which the
                # player shows running: the innermost frame of the snippet's own file.
                at = frames.snippet_line(sys._getframe(1))
                tracer.printed(self._looplens_name, text, size, at)
            except Exception:
                tracer.fail()
        return written

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._looplens_stream, name)


def install(folder: str) -> None:
    """Trace this process, if the host asked for it, then close its sandbox (last: the tracer
    has what it needs by then); `folder` is this module's, on sys.path."""
    _install_tracer(folder)
    sandbox.install()


def _install_tracer(folder: str) -> None:
    fd_text = os.environ.pop(FD_VARIABLE, None)
    # Neither variable nor the PYTHONPATH that brought the tracer in is left for the snippet
    # (os.environ, sys.path) or the processes it starts.
    virtual = os.environ.pop(VIRTUAL_TIME_VARIABLE, "1") != "0"
    limit = os.environ.pop(TRACE_LIMIT_VARIABLE, "")
    context_limit = int(limit) if limit.isdigit() and int(limit) > 0 else records.CONTEXT_LIMIT
    os.environ.pop("PYTHONPATH", None)
    while folder in sys.path:
        sys.path.remove(folder)
    if fd_text is None:
        return
    fd = int(fd_text)
    os.set_inheritable(fd, False)
    # The interpreter compiles the script under its absolute name, as it appears in tracebacks;
    # pathlib would normalize that name, the interpreter does not.
    frames.set_snippet(os.path.join(os.getcwd(), sys.argv[0]))  # noqa: PTH109, PTH118
    recorder = records.Recorder(records.Channel(fd), context_limit)
    tracer = contexts.install(recorder)
    recorder.started(frames.snippet(), virtual=virtual)
    loop.CLOCK.virtual = virtual

    def on_sleep(seconds: float) -> None:
        try:
            tracer.slept(seconds)
        except Exception:
            tracer.fail()

    clock.install(loop.CLOCK, on_sleep=on_sleep, may_skip_sleep=loop.may_skip_sleep)
    _patch_threads(tracer)
    loop.install()
    tasks.install()
    sys.stdout = TracedStream(sys.stdout, "stdout", tracer)
    sys.stderr = TracedStream(sys.stderr, "stderr", tracer)


def _patch_threads(tracer: contexts.Tracer) -> None:
    start = threading.Thread.start
    submit = ThreadPoolExecutor.submit

    def traced_start(self: threading.Thread) -> None:
        try:
            tracer.thread_starts(self)
        except Exception:
            tracer.fail()
        start(self)
        try:
            tracer.thread_started(self)
        except Exception:
            tracer.fail()

    def traced_submit(
        self: ThreadPoolExecutor, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> Future[T]:
        # Under the lock: a worker that prints at once waits until its submission is known.
        with tracer.lock:
            future = submit(self, fn, *args, **kwargs)
            try:
                # Private, set by every ThreadPoolExecutor (pinned by
                # test_private_detail_executor_names_its_threads_with_a_prefix).
                tracer.work_submitted(future, str(getattr(self, "_thread_name_prefix", "")))
            except Exception:
                tracer.fail()
        return future

    work_item_run = concurrent_thread._WorkItem.run

    def traced_run(self: Any) -> None:
        # The work item's own frame still runs the function (frames.work_item finds it), and an
        # error is caught there, so no traceback shows this one.
        try:
            tracer.work_picked_up(self.future)
        except Exception:
            tracer.fail()
        work_item_run(self)

    threading.Thread.start = traced_start  # type: ignore[method-assign]
    concurrent_thread._WorkItem.run = traced_run  # type: ignore[method-assign]
    # typeshed types submit on Executor (self: Executor); the patch is for thread pools only.
    ThreadPoolExecutor.submit = traced_submit  # type: ignore[method-assign,assignment]
