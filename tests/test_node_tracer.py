"""The Node tracer against real runs of each bundled Node release (20, 22 and 24).

Each snippet under tests/cases/js has a sibling `.expected` file: one line per printed line,
`text<TAB>stream<TAB>queue<TAB>line-or-dash<TAB>t`. In the text, `$DIR` stands for the snippet's
folder, and a `*` makes the text a glob (for lines that name Node internals, which move between
Node releases). A case that a release runs otherwise has its own `NAME.node20.expected`. Every
case must also print exactly what a plain run of the same Node prints.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from looplens.errors import TracerError
from looplens.runtimes.matrix import default_runtime, find_runtimes
from looplens.runtimes.runtime import Runtime
from looplens.trace import JS_QUEUES, Callback, Trace
from looplens.tracing.node.tracer import trace_javascript

CASES = Path(__file__).parent / "cases" / "js"
CASE_FILES = sorted(path for path in CASES.iterdir() if path.suffix in {".js", ".mjs", ".ts"})
#: Every Node release a site proves on by default that this machine has (CI has all three).
NODES = find_runtimes(["node@20", "node@22", "node@24"]).runtimes


@dataclass(frozen=True, slots=True)
class PlainRun:
    stdout: bytes
    stderr: bytes
    exit_code: int


@dataclass(frozen=True, slots=True)
class CaseRun:
    trace: Trace
    plain: PlainRun


def _plain_run(path: Path, runtime: Runtime) -> PlainRun:
    result = subprocess.run(
        [str(runtime.executable), str(path)],
        cwd=path.parent,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=30,
        check=False,
    )
    return PlainRun(result.stdout, result.stderr, result.returncode)


#: What a case opens in the sandbox, as its fence would with allow="…".
_ALLOW = {
    "direct_writes.js": ("child",),
    "net_server.js": ("net",),
    "node_timer_date_header.js": ("net",),
    "socket_timeout.js": ("net",),
    "worker.js": ("worker",),
    "worker_clock.js": ("worker",),
    "worker_message.js": ("worker",),
    "worker_message_due.js": ("worker",),
}


def _run_case(path: Path, runtime: Runtime) -> CaseRun:
    trace = trace_javascript(path, allow=_ALLOW.get(path.name, ()), runtime=runtime)
    return CaseRun(trace, _plain_run(path, runtime))


@pytest.fixture(scope="module", params=NODES, ids=lambda runtime: str(runtime.name))
def node(request: pytest.FixtureRequest) -> Runtime:
    runtime: Runtime = request.param
    return runtime


@pytest.fixture(scope="module")
def runs(node: Runtime) -> Iterator[dict[str, CaseRun]]:
    # Snippets mostly wait on timers and I/O: running them all at once keeps the suite fast.
    with ThreadPoolExecutor(max_workers=8) as pool:
        traced = pool.map(lambda path: _run_case(path, node), CASE_FILES)
        yield dict(zip((p.name for p in CASE_FILES), traced, strict=True))


def _stream_lines(trace: Trace, stream: str) -> list[str]:
    return [line.text for line in trace.lines if line.stream == stream]


#: The frame that Node 20's sandbox adds under the main script's first microtasks: its
#: experimental permission model queues a warning's nextTick before the snippet starts, so they
#: drain from processTicksAndRejections (in any run with the model on, traced or not).
_PERMISSION_TICK_FRAME = re.compile(
    r"^    at process\.processTicksAndRejections \(node:internal/process/task_queues:\d+:\d+\)$"
)


def _without_permission_tick(lines: list[str], runtime: Runtime) -> list[str]:
    """The lines, less that last frame of a stack (on both sides: some stacks have it anyway)."""
    if runtime.version_key >= (22, 13):  # --permission, no longer experimental
        return lines
    return [
        line
        for index, line in enumerate(lines)
        if not (_PERMISSION_TICK_FRAME.match(line) and lines[index + 1 : index + 2] == [""])
    ]


def _plain_lines(output: bytes) -> list[str]:
    text = output.decode("utf-8", errors="replace")
    lines = text.split("\n")
    return lines[:-1] if text.endswith("\n") else lines if text else []


def _expected(path: Path, runtime: Runtime) -> list[list[str]]:
    own = path.with_suffix(f".node{runtime.major}.expected")
    chosen = own if own.is_file() else path.with_suffix(".expected")
    lines = chosen.read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines]


def _text_matches(expected: str, actual: str) -> bool:
    # Only `*` is special: stack lines are full of brackets that a shell glob would read.
    pattern = ".*".join(re.escape(part) for part in expected.split("*"))
    return re.fullmatch(pattern, actual) is not None


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda path: path.name)
def test_traced_output_equals_a_plain_run(
    path: Path, runs: dict[str, CaseRun], node: Runtime
) -> None:
    run = runs[path.name]
    for stream, plain in (("stdout", run.plain.stdout), ("stderr", run.plain.stderr)):
        traced = _without_permission_tick(_stream_lines(run.trace, stream), node)
        assert traced == _without_permission_tick(_plain_lines(plain), node)
    assert run.trace.exit_code == run.plain.exit_code


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda path: path.name)
def test_lines_have_the_expected_queue_line_and_time(
    path: Path, runs: dict[str, CaseRun], node: Runtime
) -> None:
    trace = runs[path.name].trace
    actual = [
        [
            line.text.replace(str(path.parent), "$DIR"),
            line.stream,
            line.queue,
            "-" if line.line is None else str(line.line),
            f"{line.t:g}",
        ]
        for line in trace.lines
    ]
    # Node's own frames (and the version line under an uncaught error) come in other numbers on
    # each release; the plain-run test above checks them exactly.
    expected = [row for row in _expected(path, node) if not _node_internal(row[0])]
    actual = [row for row in actual if not _node_internal(row[0])]
    assert [row[1:] for row in actual] == [row[1:] for row in expected]
    for want, got in zip(expected, actual, strict=True):
        assert _text_matches(want[0], got[0]), f"{got[0]!r} does not match {want[0]!r}"


def _node_internal(text: str) -> bool:
    return text.startswith("Node.js v") or (
        text.lstrip().startswith("at ") and re.search(r"\(?node:[^)]*\)?$", text) is not None
    )


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda path: path.name)
def test_trace_is_consistent(path: Path, runs: dict[str, CaseRun], node: Runtime) -> None:
    trace = runs[path.name].trace
    ids = [callback.id for callback in trace.callbacks]
    assert ids == list(range(len(ids)))
    main = trace.callback(0)
    assert (main.queue, main.api, main.line, main.parent, main.t) == (
        "sync",
        "main script",
        None,
        None,
        0,
    )
    for callback in trace.callbacks:
        assert callback.queue in JS_QUEUES
        assert callback.parent is None or callback.parent in ids
    for line in trace.lines:
        callback = trace.callback(line.callback)
        assert (line.queue, line.line, line.thread) == (
            callback.queue,
            callback.line,
            callback.thread,
        )
    prints = [event.line_index for event in trace.events if event.kind == "print"]
    assert prints == list(range(len(trace.lines)))
    runs_seen: set[int] = set()
    for event in trace.events:
        if event.kind == "run":
            runs_seen.add(event.callback)
        elif event.kind == "print":
            assert event.callback in runs_seen, "a callback printed before it ran"
            assert event.callback == trace.lines[event.line_index or 0].callback
    assert Trace.from_json(trace.to_json()) == trace
    assert trace.runtime == node.identity
    assert not trace.truncated


def test_micro_vs_macro_events(runs: dict[str, CaseRun]) -> None:
    trace = runs["micro_vs_macro.js"].trace
    assert [(c.id, c.queue, c.api, c.line, c.parent, c.t) for c in trace.callbacks] == [
        (0, "sync", "main script", None, None, 0),
        (1, "timers", "setTimeout", 2, 0, 1),
        (2, "microtask", ".then", 3, 0, 0),
    ]
    assert [(e.kind, e.callback, e.line_index) for e in trace.events] == [
        ("run", 0, None),
        ("print", 0, 0),
        ("queued", 1, None),
        ("queued", 2, None),
        ("print", 0, 1),
        ("run", 2, None),
        ("print", 2, 2),
        ("run", 1, None),
        ("print", 1, 3),
    ]


def test_a_then_is_queued_when_its_promise_resolves(runs: dict[str, CaseRun]) -> None:
    trace = runs["promise_chain_timers.js"].trace
    slept = trace.callback(trace.lines[1].callback)
    assert (slept.api, slept.line, slept.t) == (".then", 7, 10)
    timer = trace.callback(slept.parent or 0)
    assert (timer.api, timer.queue, timer.t) == ("setTimeout", "timers", 10)
    queued = next(
        i for i, e in enumerate(trace.events) if e.kind == "queued" and e.callback == slept.id
    )
    timer_run = next(
        i for i, e in enumerate(trace.events) if e.kind == "run" and e.callback == timer.id
    )
    assert queued > timer_run


def test_await_continuations(runs: dict[str, CaseRun]) -> None:
    puzzle = runs["async_puzzle.js"].trace
    assert trace_api(puzzle, "async1 end") == "await"
    assert trace_api(puzzle, "promise2") == ".then"
    tla = runs["top_level_await.mjs"].trace
    after = tla.callback(tla.lines[1].callback)
    assert (after.api, after.line, tla.callback(after.parent or 0).api) == (
        "await",
        2,
        "setTimeout",
    )


def trace_api(trace: Trace, text: str) -> str:
    return trace.callback(next(line.callback for line in trace.lines if line.text == text)).api


def test_worker_lines_come_once_from_the_worker_thread(runs: dict[str, CaseRun]) -> None:
    trace = runs["worker.js"].trace
    assert [(line.text, line.thread) for line in trace.lines] == [
        ("main: started a worker", "main"),
        ("worker: hello", "worker 1"),
        ("worker: timer", "worker 1"),
        ("main: the worker exited", "main"),
    ]
    worker_main = trace.callback(trace.lines[1].callback)
    assert (worker_main.api, worker_main.queue, worker_main.thread) == (
        "main script",
        "sync",
        "worker 1",
    )


def test_an_uncaught_error_belongs_to_the_callback_that_threw(runs: dict[str, CaseRun]) -> None:
    trace = runs["uncaught_in_timer.js"].trace
    stderr = [line for line in trace.lines if line.stream == "stderr"]
    assert stderr and {trace.callback(line.callback).api for line in stderr} == {"setTimeout"}
    never = runs["unhandled_rejection.js"].trace
    # The timer was queued but the process died first: it is in the trace, and never ran.
    timer = next(callback for callback in never.callbacks if callback.api == "setTimeout")
    assert [e.kind for e in never.events if e.callback == timer.id] == ["queued"]


def test_scheduled_by_names_the_call_as_written(runs: dict[str, CaseRun]) -> None:
    trace = runs["api_names.js"].trace
    assert [(line.text, trace.callback(line.callback).api) for line in trace.lines] == [
        (name, name)
        for name in ("zlib.gzip", "zlib.deflate", "crypto.randomBytes", "stream.pipeline")
    ]


def test_exit_listeners_run_after_the_loop(runs: dict[str, CaseRun]) -> None:
    trace = runs["exit_handlers.js"].trace
    apis = [trace.callback(line.callback).api for line in trace.lines]
    assert apis == ["main script", "setTimeout", "process.on('beforeExit')", "process.on('exit')"]


def test_node_s_own_timers_are_not_callbacks(runs: dict[str, CaseRun]) -> None:
    trace = runs["node_timer_date_header.js"].trace
    timers = [callback for callback in trace.callbacks if callback.queue == "timers"]
    # Only the snippet's own setTimeout: not the Date header's timer, which did run.
    assert [(callback.api, callback.line, callback.t) for callback in timers] == [
        ("setTimeout", 16, 5)
    ]


def test_a_run_with_node_s_own_timers_traces_the_same_twice() -> None:
    path = CASES / "node_timer_date_header.js"
    first, second = (trace_javascript(path, allow=("net",)).to_json() for _ in range(2))
    assert first == second


def _callback_of(trace: Trace, text: str) -> Callback:
    return trace.callback(next(line.callback for line in trace.lines if line.text == text))


def _chain(trace: Trace, callback: Callback) -> list[str]:
    """The apis from a callback up to the main script."""
    apis = [callback.api]
    while callback.parent is not None:
        callback = trace.callback(callback.parent)
        apis.append(callback.api)
    return apis


def test_an_unhandled_rejection_listener_is_a_callback_of_its_own(
    runs: dict[str, CaseRun],
) -> None:
    trace = runs["unhandled_rejection_listener.js"].trace
    listener = _callback_of(trace, "unhandled: nobody catches me")
    # Scheduled by the rejection: the promise made on line 9, in the timer's callback.
    assert (listener.api, listener.queue, listener.line) == (
        "process.on('unhandledRejection')",
        "nextTick",
        9,
    )
    assert _chain(trace, listener)[1:] == ["setTimeout", "main script"]
    later = _callback_of(trace, "timer set by the listener")
    assert _chain(trace, later)[:2] == ["setTimeout", "process.on('unhandledRejection')"]


def test_an_uncaught_exception_listener_is_a_callback_of_its_own(
    runs: dict[str, CaseRun],
) -> None:
    trace = runs["uncaught_exception_listener.js"].trace
    listener = _callback_of(trace, "caught: boom")
    assert (listener.api, listener.queue) == ("process.on('uncaughtException')", "timers")
    assert _chain(trace, listener)[1:] == ["setTimeout", "main script"]
    tick = _callback_of(trace, "tick set by the listener")
    assert _chain(trace, tick)[:2] == ["process.nextTick", "process.on('uncaughtException')"]


def test_exit_listeners_inside_a_callback_are_callbacks_of_their_own(
    runs: dict[str, CaseRun],
) -> None:
    trace = runs["exit_listeners_inside.js"].trace
    assert _chain(trace, _callback_of(trace, "exit 3")) == [
        "process.on('exit')",
        "process.on('unhandledRejection')",
        "setTimeout",
        "main script",
    ]


def test_captured_rejections_are_scheduled_by_their_emit(runs: dict[str, CaseRun]) -> None:
    trace = runs["capture_rejections.js"].trace
    at_once = _callback_of(trace, "'error' listener got: rejected at once")
    assert (at_once.api, at_once.line, _chain(trace, at_once)[1:]) == (
        "EventEmitter.emit",
        15,
        ["main script"],
    )
    later = _callback_of(trace, "'error' listener got: rejected after an await")
    assert (later.api, later.line) == ("EventEmitter.emit", 14)
    rejecter = trace.callback(later.parent or 0)
    # The .then that emit() made is one of Node's own promise jobs: it is part of the callback
    # that rejected the listener's promise, the code after its await.
    assert (rejecter.api, rejecter.line, rejecter.queue) == ("await", 9, "microtask")


def test_a_worker_message_comes_from_the_poll_phase(runs: dict[str, CaseRun]) -> None:
    trace = runs["worker_message.js"].trace
    got = trace.callback(trace.lines[1].callback)
    assert (got.queue, got.api, got.thread, got.t) == ("poll", "parentPort", "worker 1", 20)


def test_a_worker_message_is_due_when_it_was_sent(runs: dict[str, CaseRun]) -> None:
    trace = runs["worker_message_due.js"].trace
    got = _callback_of(trace, "main: got done")
    # Not 100 ms (the main thread's clock when it ran), as it was whenever Node's own messages
    # on that port happened to run before the timer.
    assert (got.queue, got.api, got.t) == ("poll", "new Worker", 0)


SLEEPER = (
    'const { spawn } = require("node:child_process");\n'
    'const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 5000)"],\n'
    '  { detached: true, stdio: "inherit" });\n'
    "child.unref();\n"
)


def test_node_exiting_ends_the_trace(tmp_path: Path) -> None:
    # A detached child with inherited stdio holds the pipes open for 5 s after Node exits.
    snippet = tmp_path / "detached.js"
    snippet.write_text(SLEEPER + 'console.log("parent done");\n')
    start = time.monotonic()
    # The sleeper is in the run's PID namespace: it ends with the run.
    trace = trace_javascript(snippet, timeout_s=3, allow=("child",))
    assert time.monotonic() - start < 2
    assert [line.text for line in trace.lines] == ["parent done"]


def test_a_time_out_does_not_wait_for_the_pipes(tmp_path: Path) -> None:
    snippet = tmp_path / "forever.js"
    snippet.write_text(SLEEPER + "setInterval(() => {}, 1000);\n")
    start = time.monotonic()
    with pytest.raises(TracerError, match=r"did not finish within 0\.5 s"):
        trace_javascript(snippet, timeout_s=0.5, allow=("child",))
    assert time.monotonic() - start < 2


def test_display_path_replaces_the_folder(tmp_path: Path) -> None:
    snippet = tmp_path / "where.js"
    snippet.write_text("console.log(__filename);\nconsole.log(__dirname + '!');\n")
    shown = trace_javascript(snippet, display_path="/looplens")
    assert [line.text for line in shown.lines] == ["/looplens/where.js", "/looplens!"]
    raw = trace_javascript(snippet)
    assert [line.text for line in raw.lines] == [
        str(snippet.resolve()),
        f"{snippet.resolve().parent}!",
    ]


def test_a_snippet_that_never_ends_times_out(tmp_path: Path) -> None:
    snippet = tmp_path / "forever.js"
    snippet.write_text("setInterval(() => {}, 1000);\n")
    with pytest.raises(TracerError, match=r"did not finish within 0\.5 s"):
        trace_javascript(snippet, timeout_s=0.5)


def test_a_large_trace_is_truncated_but_prints_everything(tmp_path: Path) -> None:
    snippet = tmp_path / "many.js"
    snippet.write_text(
        "setTimeout(() => console.log('timer set before the cap'), 1);\n"
        "let chain = Promise.resolve();\n"
        "for (let i = 0; i < 25000; i += 1) chain = chain.then(() => i);\n"
        "chain.then((last) => console.log('last', last));\n"
        "setTimeout(() => console.log('timer set after the cap'), 1);\n"
    )
    trace = trace_javascript(snippet)
    assert trace.truncated
    # Past the cap only the queue of a callback is known, not the line that scheduled it.
    assert [(line.text, line.queue, line.line) for line in trace.lines] == [
        ("last 24999", "microtask", None),
        ("timer set before the cap", "timers", 1),
        ("timer set after the cap", "timers", None),
    ]


def test_invalid_utf8_is_replaced(tmp_path: Path) -> None:
    snippet = tmp_path / "bytes.js"
    snippet.write_text("process.stdout.write(Buffer.from([0x61, 0xff, 0x62, 0x0a]));\n")
    assert [line.text for line in trace_javascript(snippet).lines] == ["a\ufffdb"]


def test_missing_file() -> None:
    with pytest.raises(TracerError, match="no such file"):
        trace_javascript(CASES / "no-such-snippet.js")


def test_the_default_node_is_the_newest_found() -> None:
    newest = default_runtime("javascript")
    assert newest.identity.startswith("node 24.")
    assert newest.executable.name == "node"
    assert all(newest.version_key >= runtime.version_key for runtime in NODES)


def test_each_node_runs_the_snippet_on_its_own_release(tmp_path: Path) -> None:
    snippet = tmp_path / "version.js"
    snippet.write_text("console.log(process.version);\n")
    for runtime in NODES:
        trace = trace_javascript(snippet, runtime=runtime)
        assert [line.text for line in trace.lines] == [f"v{runtime.version}"]
        assert trace.runtime == runtime.identity


def test_a_printed_line_knows_the_line_that_printed_it(tmp_path: Path) -> None:
    snippet = tmp_path / "sites.js"
    snippet.write_text(
        'console.log("one");\n'
        "setTimeout(() => {\n"
        "  const two = 2;\n"
        '  console.log("two", two);\n'
        "}, 0);\n"
        'process.stdout.write("three\\n");\n'
    )
    for runtime in NODES:
        trace = trace_javascript(snippet, runtime=runtime)
        assert [(line.text, line.line, line.at) for line in trace.lines] == [
            ("one", None, 1),
            ("three", None, 6),
            ("two 2", 2, 4),
        ], runtime.name
