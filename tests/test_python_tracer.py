"""The Python asyncio tracer on real snippets, and the asyncio internals that it relies on.

Every case in tests/cases/py runs traced on each CPython a site proves on (3.11, 3.12 and 3.13
where the machine has them; CI has all three), and twice more without the tracer, in the same
environment: as `python FILE` (its stdout and stderr must be byte-identical to the traced run's),
and with stderr sent into stdout (the trace's lines must come in that real order of writes).
NAME.expected lists the printed lines of NAME.py, one a row, tab-separated: text, stream, queue,
the line that scheduled the step (- for none) and the logical time in ms. A row whose text is
`...` stands for any number of lines with the same other fields, up to the next row: the stdlib
frames of a traceback, which change from one Python version to the next.

Each test named test_private_detail_* pins one private detail of asyncio (or of
concurrent.futures) that the tracer relies on, so that a Python that changes it fails by name.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import dataclasses
import difflib
import gc
import importlib
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import thread as concurrent_thread
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

import pytest

from looplens.errors import TracerError
from looplens.runtimes.matrix import default_runtime, find_runtimes
from looplens.runtimes.runtime import Runtime
from looplens.sandbox.environment import python_environment
from looplens.trace import MAIN_THREAD, PYTHON_QUEUES, ClockKind, Trace
from looplens.tracing.python.tracer import (
    TRACER_DIR,
    TracedRun,
    run_traced,
    trace_from_run,
    trace_python,
)

CASES = Path(__file__).parent / "cases" / "py"
CASE_NAMES = sorted(path.stem for path in CASES.glob("*.py"))
PYTHONS = find_runtimes(["python@3.11", "python@3.12", "python@3.13"]).runtimes
DISPLAY = "/cases"

Row = tuple[str, str, str, str, str]


@dataclass(frozen=True, slots=True)
class CaseRun:
    traced: TracedRun
    #: The trace as a page shows it: the cases folder reads DISPLAY.
    trace: Trace
    plain: subprocess.CompletedProcess[bytes]
    #: A plain run with stderr into stdout: the real order of the writes.
    merged: bytes


def plain_run(
    path: Path, runtime: Runtime | None = None, *, merged: bool = False
) -> subprocess.CompletedProcess[bytes]:
    runtime = runtime or default_runtime("python")
    return subprocess.run(
        [str(runtime.executable), str(path)],
        cwd=path.parent,
        env=python_environment(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merged else subprocess.PIPE,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module", params=PYTHONS, ids=lambda runtime: str(runtime.name))
def python(request: pytest.FixtureRequest) -> Runtime:
    runtime: Runtime = request.param
    return runtime


@pytest.fixture(scope="module")
def runs(python: Runtime) -> dict[str, CaseRun]:
    # All at once: the plain runs really wait (one case sleeps 5 s), the processes mostly sleep.
    with ThreadPoolExecutor(max_workers=8) as pool:
        jobs = {
            name: (
                pool.submit(run_traced, CASES / f"{name}.py", runtime=python),
                pool.submit(plain_run, CASES / f"{name}.py", python),
                pool.submit(plain_run, CASES / f"{name}.py", python, merged=True),
            )
            for name in CASE_NAMES
        }
        return {
            name: CaseRun(
                traced.result(),
                trace_from_run(traced.result(), display_path=DISPLAY),
                plain.result(),
                merged.result().stdout,
            )
            for name, (traced, plain, merged) in jobs.items()
        }


def rows(trace: Trace) -> list[Row]:
    return [
        (
            line.text,
            line.stream,
            line.queue,
            "-" if line.line is None else str(line.line),
            f"{line.t:g}",
        )
        for line in trace.lines
    ]


def expected_rows(name: str) -> list[Row]:
    text = (CASES / f"{name}.expected").read_text(encoding="utf-8")
    parsed = []
    for row in text.splitlines():
        text_, stream, queue, line, t = row.rsplit("\t", 4)
        parsed.append((text_, stream, queue, line, t))
    return parsed


def matches(expected: list[Row], actual: list[Row]) -> bool:
    position = 0
    for index, row in enumerate(expected):
        if row[0] == "...":
            following = expected[index + 1] if index + 1 < len(expected) else None
            while (
                position < len(actual)
                and actual[position] != following
                and actual[position][1:] == row[1:]
            ):
                position += 1
        elif position < len(actual) and actual[position] == row:
            position += 1
        else:
            return False
    return position == len(actual)


def output_lines(data: bytes) -> list[str]:
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    return lines[:-1] if text.endswith("\n") else lines


# -- every case ------------------------------------------------------------------------------


def test_there_are_enough_cases() -> None:
    assert len(CASE_NAMES) >= 14


@pytest.mark.parametrize("name", CASE_NAMES)
def test_case_prints_exactly_what_a_plain_run_prints(name: str, runs: dict[str, CaseRun]) -> None:
    run = runs[name]
    assert run.traced.stdout == run.plain.stdout
    assert run.traced.stderr == run.plain.stderr
    assert run.traced.exit_code == run.plain.returncode


@pytest.mark.parametrize("name", CASE_NAMES)
def test_case_lines_come_in_the_real_order_of_writes(name: str, runs: dict[str, CaseRun]) -> None:
    run = runs[name]
    assert [line.text for line in trace_from_run(run.traced).lines] == output_lines(run.merged)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_case_lines_have_the_expected_queue_line_and_time(
    name: str, runs: dict[str, CaseRun]
) -> None:
    actual = rows(runs[name].trace)
    expected = expected_rows(name)
    diff = difflib.unified_diff(
        ["\t".join(row) for row in expected], ["\t".join(row) for row in actual], lineterm=""
    )
    assert matches(expected, actual), "\n".join(diff)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_case_trace_is_consistent(name: str, runs: dict[str, CaseRun], python: Runtime) -> None:
    trace = runs[name].trace
    assert trace.language == "python"
    assert trace.runtime == python.identity
    assert trace.callbacks[0].api == "main script"
    assert trace.callbacks[0].queue == "sync"
    assert [callback.id for callback in trace.callbacks] == list(range(len(trace.callbacks)))
    assert {callback.queue for callback in trace.callbacks} <= set(PYTHON_QUEUES)
    for callback in trace.callbacks[1:]:
        assert callback.parent is not None
        assert callback.parent < len(trace.callbacks)
    printed = [event.line_index for event in trace.events if event.kind == "print"]
    assert printed == list(range(len(trace.lines)))
    for line in trace.lines:
        assert trace.callback(line.callback).queue == line.queue
        assert trace.callback(line.callback).thread == line.thread
    ran = {event.callback for event in trace.events if event.kind == "run"}
    assert ran == {callback.id for callback in trace.callbacks}


def test_every_case_traces_the_same_from_run_to_run(
    runs: dict[str, CaseRun], python: Runtime
) -> None:
    # Pages must be byte-identical from build to build: callbacks and events too, not only lines.
    with ThreadPoolExecutor(max_workers=8) as pool:
        again = dict(
            zip(
                CASE_NAMES,
                pool.map(
                    lambda name: trace_python(
                        CASES / f"{name}.py", display_path=DISPLAY, runtime=python
                    ),
                    CASE_NAMES,
                ),
                strict=True,
            )
        )
    changed = [name for name in CASE_NAMES if _steady(again[name]) != _steady(runs[name].trace)]
    assert changed == []


def _steady(trace: Trace) -> tuple[str, list[tuple[int, int, ClockKind]], bool]:
    """What a trace shows, with its clock decisions as the pairs they order, and without turn
    numbers where a clock counted some: a margin and such turns are measured (a page marks the
    whole block so), which pairs the clock ordered and whether a clock counted turns are not."""
    pairs = sorted((d.first, d.second, d.kind) for d in trace.decisions)
    counted = bool(trace.turns_measured)
    shown = dataclasses.replace(
        trace,
        decisions=(),
        turns_measured=(),
        callbacks=tuple(
            dataclasses.replace(callback, turn=-1) if counted else callback
            for callback in trace.callbacks
        ),
        lines=tuple(
            dataclasses.replace(line, turn=-1) if counted else line for line in trace.lines
        ),
    )
    return shown.to_json(), pairs, counted


# -- what the trace says --------------------------------------------------------------------


def test_plumbing_is_left_out(runs: dict[str, CaseRun]) -> None:
    # The timer behind asyncio.sleep and the runner's shutdown tasks are asyncio's business.
    trace = runs["create_task_vs_await"].trace
    apis = [callback.api for callback in trace.callbacks]
    assert apis[0] == "main script"
    assert all(api.endswith((" step (main)", " step (job)")) for api in apis[1:])
    assert {callback.queue for callback in trace.callbacks[1:]} == {"task"}


def test_callbacks_name_the_api_that_scheduled_them(runs: dict[str, CaseRun]) -> None:
    apis = {callback.api for callback in runs["call_soon_vs_call_later"].trace.callbacks}
    assert {"call_soon", "call_later", "call_at"} <= apis
    apis = {callback.api for callback in runs["executor_work"].trace.callbacks}
    assert {"run_in_executor", "to_thread"} <= apis
    apis = {callback.api for callback in runs["threadsafe_from_thread"].trace.callbacks}
    assert {"Thread.start", "call_soon_threadsafe"} <= apis
    apis = {callback.api for callback in runs["done_callbacks"].trace.callbacks}
    assert "add_done_callback" in apis


def test_thread_work_runs_on_named_threads(runs: dict[str, CaseRun]) -> None:
    threads = {line.thread for line in runs["executor_work"].trace.lines if line.queue == "thread"}
    # Sequential work reuses the executor's first worker, as the real pool does.
    assert threads == {"asyncio_0"}
    threads = {line.thread for line in runs["threadsafe_from_thread"].trace.lines}
    assert threads == {"helper", MAIN_THREAD}


def test_quick_silent_thread_work_is_traced_the_same_every_time(tmp_path: Path) -> None:
    # Work can be done before its submission is registered: it still ran, and what it hands
    # back still comes from it.
    path = tmp_path / "quick.py"
    path.write_text(
        "import asyncio\n\n\nasync def main():\n    for _ in range(20):\n"
        "        await asyncio.to_thread(int)\n\n\nasyncio.run(main())\n"
    )
    trace = trace_python(path)
    work = [callback for callback in trace.callbacks if callback.queue == "thread"]
    steps = [callback for callback in trace.callbacks if callback.queue == "task"]
    assert len(work) == 20
    assert {callback.thread for callback in work} == {"asyncio_0"}
    assert [step.parent for step in steps[1:]] == [callback.id for callback in work]


def test_sequential_awaits_take_three_times_what_gather_takes(runs: dict[str, CaseRun]) -> None:
    times = {line.text: line.t for line in runs["sequential_vs_gather"].trace.lines}
    assert times["sequential took 0.3 s or more: True"] == 300
    assert times["gather took less: True"] - times["sequential took 0.3 s or more: True"] == 100


def test_five_seconds_of_sleeps_take_5000_logical_ms(runs: dict[str, CaseRun]) -> None:
    # The wall time of the traced run is measured by benchmarks/python_virtual_time.py.
    (line,) = runs["five_seconds_of_sleeps"].trace.lines
    assert line.t == 5000
    assert line.text.endswith("True")


def test_real_time_gives_the_same_trace() -> None:
    path = CASES / "sequential_vs_gather.py"
    started = time.perf_counter()
    real = trace_python(path, virtual_time=False)
    # Its sleeps add up to 0.4 s; with virtual time the run takes about a tenth of that.
    assert time.perf_counter() - started >= 0.4
    assert rows(real) == rows(trace_python(path))


def test_the_event_cap_truncates_the_trace_but_not_the_output(tmp_path: Path) -> None:
    path = tmp_path / "spin.py"
    path.write_text(
        "import asyncio\n\n\nasync def spin():\n    for _ in range(12_000):\n"
        "        await asyncio.sleep(0)\n    print('spun')\n\n\nasyncio.run(spin())\n"
    )
    trace = trace_python(path)
    assert trace.truncated
    assert [line.text for line in trace.lines] == ["spun"]
    assert len(trace.events) <= 20_010


def test_a_snippet_that_never_ends_is_stopped(tmp_path: Path) -> None:
    path = tmp_path / "forever.py"
    path.write_text(
        "import asyncio\n\n\nasync def main():\n    while True:\n        await asyncio.sleep(1)\n"
        "\n\nasyncio.run(main())\n"
    )
    with pytest.raises(TracerError, match=r"did not finish within 0\.5 s"):
        trace_python(path, timeout_s=0.5)


def test_a_missing_file_is_a_tracer_error(tmp_path: Path) -> None:
    with pytest.raises(TracerError, match="no such file"):
        trace_python(tmp_path / "missing.py")


def test_the_tracer_leaves_no_trace_in_the_snippets_environment(tmp_path: Path) -> None:
    path = tmp_path / "environment.py"
    path.write_text(
        "import os, sys\n"
        "print(sorted(name for name in os.environ if 'LOOPLENS' in name or 'PYTHONPATH' in name))\n"
        "print([entry for entry in sys.path if 'tracers' in entry])\n"
    )
    assert [line.text for line in trace_python(path).lines] == ["[]", "[]"]


def test_every_tracer_module_is_loaded_before_its_folder_leaves_sys_path(tmp_path: Path) -> None:
    # A module imported later, once sitecustomize took the folder off sys.path, would not be found.
    path = tmp_path / "modules.py"
    path.write_text(
        "import sys\nprint(sorted(n for n in sys.modules if n.startswith('_looplens_')))\n"
    )
    modules = sorted(module.stem for module in TRACER_DIR.glob("_looplens_*.py"))
    assert [line.text for line in trace_python(path).lines] == [str(modules)]


@pytest.mark.skipif(sys.version_info < (3, 12), reason="eager tasks exist from Python 3.12 on")
def test_an_eager_first_step_runs_in_its_creator(tmp_path: Path) -> None:
    path = tmp_path / "eager.py"
    path.write_text(
        "import asyncio\n\n\nasync def child():\n    print('child: first step')\n"
        "    await asyncio.sleep(0)\n    print('child: second step')\n\n\n"
        "async def main():\n"
        "    asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)\n"
        "    print('main: creating')\n    await asyncio.create_task(child())\n\n\n"
        "asyncio.run(main())\n"
    )
    run = run_traced(path)
    assert run.stdout == plain_run(path).stdout
    main, first, second = trace_from_run(run).lines
    # No queue is involved: the first step runs inside create_task, in main's step.
    assert first.callback == main.callback
    assert second.queue == "task"
    assert second.line == 6


# -- private details of asyncio that the tracer relies on ------------------------------------


@pytest.fixture
def child() -> Iterator[Callable[[str], ModuleType]]:
    """Import a module of the in-child tracer (they import each other as top-level modules)."""
    sys.path.insert(0, str(TRACER_DIR))
    try:
        yield importlib.import_module
    finally:
        sys.path.remove(str(TRACER_DIR))


def test_private_detail_runner_creates_its_loop_with_events_new_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[asyncio.AbstractEventLoop] = []
    original = asyncio.events.new_event_loop

    def new_event_loop() -> asyncio.AbstractEventLoop:
        made.append(original())
        return made[-1]

    monkeypatch.setattr(asyncio.events, "new_event_loop", new_event_loop)

    async def running() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    assert asyncio.run(running()) is made[-1]
    with asyncio.Runner() as runner:
        assert runner.get_loop() is made[-1]
        # Where the tracer asks which loop runs, without an exception when none does.
        assert asyncio.events._get_running_loop() is None
        assert runner.run(running()) is runner.get_loop()
    # asyncio re-exports the function: the tracer patches both names.
    assert asyncio.new_event_loop is original


class _RecordingReady(collections.deque[Any]):
    def __init__(self, log: list[tuple[str, Any]]) -> None:
        super().__init__()
        self.log = log

    def append(self, handle: Any) -> None:
        self.log.append(("append", handle))
        super().append(handle)

    def popleft(self) -> Any:
        handle = super().popleft()
        self.log.append(("popleft", handle))
        return handle


def test_private_detail_handles_enter_ready_with_append_and_leave_with_popleft() -> None:
    log: list[tuple[str, Any]] = []
    loop = asyncio.new_event_loop()
    try:
        assert type(loop._ready) is collections.deque  # type: ignore[attr-defined]
        assert not loop._ready  # type: ignore[attr-defined]
        loop._ready = _RecordingReady(log)  # type: ignore[attr-defined]

        def ran(name: str) -> None:
            log.append(("ran", name))

        soon = loop.call_soon(ran, "soon")
        cancelled = loop.call_soon(ran, "cancelled")
        cancelled.cancel()
        timer = loop.call_later(0, ran, "timer")
        thread = threading.Thread(target=loop.call_soon_threadsafe, args=(ran, "threadsafe"))
        thread.start()
        thread.join()
        loop.call_later(0.01, loop.stop)
        loop.run_forever()
    finally:
        loop.close()
    steps = [
        (step, handle if isinstance(handle, str) else handle._callback) for step, handle in log
    ]
    assert ("append", soon._callback) in steps  # type: ignore[attr-defined]
    assert ("append", timer._callback) in steps  # type: ignore[attr-defined]
    ran_names = [handle for step, handle in log if step == "ran"]
    assert ran_names == ["soon", "threadsafe", "timer"]
    for name in ran_names:
        ran_at = log.index(("ran", name))
        handle = log[ran_at - 1][1]
        assert log[ran_at - 1][0] == "popleft"
        assert handle._args == (name,)
    # A cancelled handle is taken out with popleft too, and skipped by its _cancelled flag.
    assert any(step == "popleft" and handle is cancelled for step, handle in log)
    assert cancelled._cancelled


def test_private_detail_select_waits_until_the_next_timer() -> None:
    timeouts: list[float | None] = []

    class Selector(selectors.DefaultSelector):
        def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
            timeouts.append(timeout)
            return super().select(timeout)

    loop = asyncio.SelectorEventLoop(Selector())
    try:
        loop.run_until_complete(asyncio.sleep(0.05))
    finally:
        loop.close()
    assert any(timeout is not None and 0.03 < timeout <= 0.05 for timeout in timeouts)


def test_private_detail_timers_wait_in_a_heap() -> None:
    loop = asyncio.new_event_loop()
    try:
        later = loop.call_later(0.2, print)
        sooner = loop.call_later(0.1, print)
        heap = loop._scheduled  # type: ignore[attr-defined]
        assert heap[0] is sooner
        assert sorted(heap, key=lambda timer: timer.when()) == [sooner, later]
        later.cancel()
        sooner.cancel()
    finally:
        loop.close()


def test_private_detail_create_task_makes_the_task_class_of_the_tasks_module(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Task(asyncio.Task[Any]):
        pass

    monkeypatch.setattr(asyncio.tasks, "Task", Task)
    loop = asyncio.new_event_loop()
    try:
        task = loop.create_task(asyncio.sleep(0))
        assert type(task) is Task
        loop.run_until_complete(task)
    finally:
        loop.close()


def test_private_detail_call_later_goes_through_call_at(monkeypatch: pytest.MonkeyPatch) -> None:
    whens: list[float] = []
    loop = asyncio.new_event_loop()
    call_at = loop.call_at

    def recording_call_at(when: float, *args: Any, **kwargs: Any) -> asyncio.TimerHandle:
        whens.append(when)
        return call_at(when, *args, **kwargs)

    monkeypatch.setattr(loop, "call_at", recording_call_at)
    try:
        loop.call_later(0.01, print)
    finally:
        loop.close()
    assert len(whens) == 1


def test_private_detail_cancelling_a_timer_tells_the_loop() -> None:
    loop = asyncio.new_event_loop()
    try:
        told: list[asyncio.TimerHandle] = []
        original = loop._timer_handle_cancelled  # type: ignore[attr-defined]

        def cancelled(handle: asyncio.TimerHandle) -> None:
            told.append(handle)
            original(handle)

        loop._timer_handle_cancelled = cancelled  # type: ignore[attr-defined]
        timer = loop.call_later(10, print)
        timer.cancel()
        assert told == [timer]
    finally:
        loop.close()


def _task_classes() -> list[type[asyncio.Task[Any]]]:
    classes: list[type[asyncio.Task[Any]]] = [asyncio.tasks._PyTask]  # type: ignore[attr-defined]
    c_task = getattr(asyncio.tasks, "_CTask", None)
    if c_task is not None:
        classes.append(c_task)
    return classes


@pytest.mark.parametrize("task_class", _task_classes(), ids=lambda cls: cls.__module__)
def test_private_detail_task_steps_are_callbacks_bound_to_their_task(
    task_class: type[asyncio.Task[Any]], child: Callable[[str], ModuleType]
) -> None:
    task_of = child("_looplens_tasks").task_of
    loop = asyncio.new_event_loop()
    try:
        future = loop.create_future()

        async def waits() -> None:
            await future

        task = task_class(waits(), loop=loop)
        first_step = loop._ready[-1]._callback  # type: ignore[attr-defined]
        assert task_of(first_step) is task
        loop.run_until_complete(asyncio.sleep(0))
        wakeup = future._callbacks[0][0]
        assert task_of(wakeup) is task
        future.set_result(None)
        loop.run_until_complete(task)
        # A bound method of a task that is not a step is a callback like any other.
        assert task_of(task.cancel) is None
    finally:
        loop.close()


def test_private_detail_async_generator_awaitables_refer_to_their_generator() -> None:
    async def numbers() -> Any:
        yield 1

    generator = numbers()
    asend = generator.asend(None)
    athrow = generator.athrow(GeneratorExit)
    assert generator in gc.get_referents(asend)
    assert generator in gc.get_referents(athrow)
    assert {type(asend).__name__, type(athrow).__name__} == {
        "async_generator_asend",
        "async_generator_athrow",
    }
    asend.close()
    athrow.close()


def test_private_detail_executor_runs_work_in_a_work_item_frame() -> None:
    seen: list[Any] = []

    def work() -> None:
        frame: FrameType | None = sys._getframe()
        while frame is not None and frame.f_code is not concurrent_thread._WorkItem.run.__code__:
            frame = frame.f_back
        assert frame is not None
        seen.append(frame.f_locals["self"].future)

    with ThreadPoolExecutor() as executor:
        submitted = executor.submit(work)
        submitted.result()
    assert seen == [submitted]


def test_private_detail_executor_starts_its_workers_from_its_own_module(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    starters: list[str] = []
    start = threading.Thread.start

    def recording_start(self: threading.Thread) -> None:
        starters.append(sys._getframe(1).f_code.co_filename)
        start(self)

    monkeypatch.setattr(threading.Thread, "start", recording_start)
    with ThreadPoolExecutor() as executor:
        executor.submit(int).result()
    assert starters == [concurrent.futures.thread.__file__]


def test_private_detail_executor_names_its_threads_with_a_prefix() -> None:
    with ThreadPoolExecutor() as executor:
        name = executor.submit(lambda: threading.current_thread().name).result()
        assert name == f"{executor._thread_name_prefix}_0"


def test_private_detail_unix_loop_keeps_signal_handlers() -> None:
    loop = asyncio.new_event_loop()
    try:
        assert loop._signal_handlers == {}  # type: ignore[attr-defined]
        loop.add_signal_handler(signal.SIGUSR1, print)
        assert signal.SIGUSR1 in loop._signal_handlers  # type: ignore[attr-defined]
        loop.remove_signal_handler(signal.SIGUSR1)
    finally:
        loop.close()


def test_private_detail_debug_mode_records_where_handles_and_tasks_were_made() -> None:
    loop = asyncio.new_event_loop()
    loop.set_debug(True)
    try:
        handle = loop.call_soon(print)
        timer = loop.call_later(1, print)
        task = loop.create_task(asyncio.sleep(0))
        here = sys._getframe().f_code.co_name
        everything_made: tuple[Any, ...] = (handle, timer, task)
        for made in everything_made:
            assert made._source_traceback[-1].name == here
        loop.run_until_complete(task)
        timer.cancel()
    finally:
        loop.close()


def test_private_detail_scheduling_calls_are_named_as_the_tracer_expects(
    child: Callable[[str], ModuleType],
) -> None:
    scheduling_call = child("_looplens_frames").scheduling_call
    found: list[tuple[str | None, str]] = []

    class Ready(collections.deque[Any]):
        def append(self, handle: Any) -> None:
            api, caller = scheduling_call(sys._getframe(1))
            found.append((api, caller.f_code.co_name if caller else ""))
            super().append(handle)

    loop = asyncio.new_event_loop()
    try:
        loop._ready = Ready()  # type: ignore[attr-defined]

        def schedule() -> None:
            loop.call_soon(print)
            loop.call_soon_threadsafe(print)

        schedule()
        assert found == [("call_soon", "schedule"), ("call_soon_threadsafe", "schedule")]
        submitted: list[tuple[str | None, str]] = []

        class Executor(ThreadPoolExecutor):
            def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
                api, caller = scheduling_call(sys._getframe(1))
                submitted.append((api, caller.f_code.co_name if caller else ""))
                return super().submit(fn, *args, **kwargs)

        loop.set_default_executor(Executor())

        async def offload() -> None:
            await asyncio.to_thread(int)
            await loop.run_in_executor(None, int)

        loop.run_until_complete(offload())
        assert submitted == [("to_thread", "offload"), ("run_in_executor", "offload")]
    finally:
        loop.close()


def test_a_printed_line_knows_the_line_that_printed_it(tmp_path: Path) -> None:
    snippet = tmp_path / "sites.py"
    snippet.write_text(
        "import asyncio\n"
        'print("one")\n'
        "async def main():\n"
        "    await asyncio.sleep(0)\n"
        "    print(\n"
        '        "two")\n'
        "asyncio.run(main())\n"
    )
    for runtime in PYTHONS:
        trace = trace_python(snippet, runtime=runtime)
        assert [(line.text, line.at) for line in trace.lines] == [("one", 2), ("two", 5)]
