"""Hostile and broken snippets: each ends within its limit (+2 s) with exactly what a user sees,
leaves no process behind, and never reaches the cache when it failed.

Limits here are short (1 s, 64 KB of output, 64 MB of memory) to keep the suite fast. A breach
raises TracerError naming page:line, snippet, the limit and how to raise it; everything else a
snippet does wrong is content: Node's or Python's own error, in the trace, as a plain run shows it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from looplens import PACKAGE_FOLDER
from looplens.cache import TraceCache
from looplens.checks.judge import judge
from looplens.config import LooplensConfig, site_limits
from looplens.errors import SnippetError, TracerError
from looplens.fences.collect import collect_snippets
from looplens.fences.expected_output import parse_expectation
from looplens.limits import MB, LimitError, LimitOverrides, Limits
from looplens.sandbox import command, namespaces
from looplens.sandbox import python_files as python_sandbox
from looplens.sandbox.environment import python_environment
from looplens.snippet import Language, Snippet
from looplens.trace import Trace
from looplens.tracers.python import _looplens_sandbox
from looplens.tracing import child
from looplens.tracing.digests import snippet_digest
from looplens.tracing.pool import TracePool
from looplens.tracing.run import trace_runs, trace_snippet

pytestmark = pytest.mark.skipif(
    not namespaces.network_blocked(), reason="needs Linux namespaces (unshare) to sandbox snippets"
)

LIMITS = Limits(timeout_s=1.0, output_bytes=64 * 1024, trace_events=200, memory_bytes=64 * MB)
#: For the breaches of other limits: on a busy machine, Node can take a second to start at all,
#: and the time limit must not win the race against the limit under test.
ROOMY = dataclasses.replace(LIMITS, timeout_s=8.0)
#: A process that hostile snippets start carries this argument, so the test can look for it.
MARKER = "31.4159"
_FILES: dict[Language, str] = {"javascript": "hostile.js", "python": "hostile.py"}


def _snippet(language: Language, source: str, allow: tuple[str, ...] = ()) -> Snippet:
    return Snippet("hostile", language, _FILES[language], source, "docs/hostile.md", 3, allow=allow)


class _Recorder(subprocess.Popen[bytes]):
    """Popen that remembers the pid (= session id) of every snippet run it starts."""

    started: ClassVar[list[int]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _Recorder.started.append(self.pid)


def _sessions_and_cmdlines() -> Iterator[tuple[int, int, str]]:
    """(pid, session id, command line) of every living process (zombies are dead: only their
    exit status waits for the host's init to collect it), read from /proc."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        # The command name (field 2) may hold spaces: fields after its closing parenthesis.
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z":
            yield int(entry.name), int(fields[3]), cmdline


@pytest.fixture(autouse=True)
def no_orphans(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """After each test, no process of a snippet's session, nor one it started, is left."""
    _Recorder.started = []
    monkeypatch.setattr(subprocess, "Popen", _Recorder)
    yield
    sessions = set(_Recorder.started)
    deadline = time.monotonic() + 1.0
    while True:
        left = [
            (pid, cmdline)
            for pid, session, cmdline in _sessions_and_cmdlines()
            if session in sessions or pid in sessions or MARKER in cmdline
        ]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.05)  # the kernel may take a moment to tear a namespace down
    assert left == []


def _run(snippet: Snippet, options: Limits = LIMITS) -> Trace:
    start = time.monotonic()
    try:
        return trace_snippet(snippet, options)
    finally:
        assert time.monotonic() - start < options.timeout_s + 2


def _breach(snippet: Snippet, options: Limits = LIMITS) -> str:
    with pytest.raises(LimitError) as caught:
        _run(snippet, options)
    return str(caught.value)


def _lines(trace: Trace, stream: str = "stderr") -> list[str]:
    return [line.text for line in trace.lines if line.stream == stream]


def _time_limit(name: str) -> str:
    return (
        f"docs/hostile.md:3: snippet 'hostile': {name} did not finish within 1 s (the time "
        "limit); the run was ended. To raise it, give the fence timeout=3 or set 'timeout' "
        "of the looplens plugin in mkdocs.yml"
    )


def _memory_limit(name: str) -> str:
    return (
        f"docs/hostile.md:3: snippet 'hostile': {name} ran out of memory, over 64MB (the memory "
        "limit); the run was ended. To raise it, give the fence memory=128MB or set "
        "'max_memory' of the looplens plugin in mkdocs.yml"
    )


def _access_denied(trace: Trace, flag: str) -> None:
    lines = _lines(trace)
    assert (
        f"Error: Access to this API has been restricted. Use {flag} to manage permissions."
    ) in lines
    assert "  code: 'ERR_ACCESS_DENIED'," in lines
    assert trace.exit_code == 1


# --- wall time -----------------------------------------------------------------------------------


def test_js_infinite_sync_loop() -> None:
    assert _breach(_snippet("javascript", "while (true) {}\n")) == _time_limit("hostile.js")


def test_py_infinite_sync_loop() -> None:
    assert _breach(_snippet("python", "while True:\n    pass\n")) == _time_limit("hostile.py")


def test_js_infinite_microtask_loop() -> None:
    source = "function again() { Promise.resolve().then(again); }\nagain();\n"
    assert _breach(_snippet("javascript", source)) == _time_limit("hostile.js")


def test_js_infinite_set_interval() -> None:
    source = "setInterval(() => {}, 1);\n"
    assert _breach(_snippet("javascript", source)) == _time_limit("hostile.js")


def test_js_never_settling_promise_with_a_one_hour_timer() -> None:
    # Decided: a pending timer is pending work, as in a plain run; the wall-time limit ends it.
    source = "new Promise((resolve) => setTimeout(resolve, 3_600_000)).then(() => {});\n"
    assert _breach(_snippet("javascript", source)) == _time_limit("hostile.js")


def test_py_thread_that_never_ends() -> None:
    source = (
        "import threading, time\n"
        "threading.Thread(target=lambda: time.sleep(3600)).start()\n"
        "print('main done')\n"
    )
    assert _breach(_snippet("python", source)) == _time_limit("hostile.py")


def test_js_sigterm_trap_is_killed_anyway() -> None:
    source = "process.on('SIGTERM', () => {});\nwhile (true) {}\n"
    assert _breach(_snippet("javascript", source)) == _time_limit("hostile.js")


# --- printed output and trace size ---------------------------------------------------------------


def _output_limit(name: str) -> str:
    return (
        f"docs/hostile.md:3: snippet 'hostile': {name} printed more than 64KB (the output "
        "limit); the run was ended. To raise it, give the fence output=128KB or set "
        "'max_output' of the looplens plugin in mkdocs.yml"
    )


def test_js_output_flood() -> None:
    source = "while (true) console.log('x'.repeat(1000));\n"
    assert _breach(_snippet("javascript", source), ROOMY) == _output_limit("hostile.js")


def test_py_output_flood() -> None:
    source = "while True:\n    print('x' * 1000)\n"
    assert _breach(_snippet("python", source), ROOMY) == _output_limit("hostile.py")


def test_js_trace_event_flood_is_truncated_and_not_cached(tmp_path: Path) -> None:
    # The events limit keeps the trace small; the run goes on and prints everything.
    source = "for (let i = 0; i < 1000; i++) setTimeout(() => {});\nconsole.log('done');\n"
    pool = TracePool(1, LIMITS, TraceCache(tmp_path))
    trace = pool.run_set(_snippet("javascript", source))[0]
    pool.close()
    assert trace.truncated
    assert _lines(trace, "stdout") == ["done"]
    assert list(tmp_path.iterdir()) == []


def test_py_trace_event_flood_is_truncated() -> None:
    source = (
        "import asyncio\n"
        "async def main():\n"
        "    for _ in range(1000):\n"
        "        await asyncio.sleep(0)\n"
        "    print('done')\n"
        "asyncio.run(main())\n"
    )
    trace = _run(_snippet("python", source))
    assert trace.truncated
    assert _lines(trace, "stdout") == ["done"]


# --- memory --------------------------------------------------------------------------------------


def test_js_heap_memory_bomb() -> None:
    source = "const kept = [];\nwhile (true) kept.push(new Array(1e6).fill(1.5));\n"
    assert _breach(_snippet("javascript", source), ROOMY) == _memory_limit("hostile.js")


def test_js_buffer_memory_bomb() -> None:
    # Buffers live outside V8's heap: the address-space limit stops them.
    source = "const kept = [];\nwhile (true) kept.push(Buffer.alloc(64 * 1024 * 1024, 1));\n"
    assert _breach(_snippet("javascript", source), ROOMY) == _memory_limit("hostile.js")


def test_py_memory_bomb() -> None:
    source = "kept = []\nwhile True:\n    kept.append(bytearray(10**7))\n"
    assert _breach(_snippet("python", source), ROOMY) == _memory_limit("hostile.py")


# --- exceptions are content ----------------------------------------------------------------------


def test_js_deep_recursion() -> None:
    trace = _run(_snippet("javascript", "function f() { f(); }\nf();\n"))
    assert "RangeError: Maximum call stack size exceeded" in _lines(trace)
    assert trace.exit_code == 1


def test_py_deep_recursion() -> None:
    trace = _run(_snippet("python", "def f():\n    f()\nf()\n"))
    assert _lines(trace)[-1] == "RecursionError: maximum recursion depth exceeded"
    assert trace.exit_code == 1


def test_js_uncaught_exception_in_a_timer() -> None:
    trace = _run(_snippet("javascript", "setTimeout(() => { throw new Error('boom'); });\n"))
    assert "Error: boom" in _lines(trace)
    assert {line.queue for line in trace.lines} == {"timers"}
    assert trace.exit_code == 1


def test_js_unhandled_rejection() -> None:
    trace = _run(_snippet("javascript", "Promise.reject(new Error('nope'));\n"))
    assert "Error: nope" in _lines(trace)
    assert trace.exit_code == 1


def test_js_syntax_error_names_the_snippet_line() -> None:
    trace = _run(_snippet("javascript", "console.log(1);\nlet x = ;\n"))
    assert _lines(trace)[:3] == ["/looplens/hostile.js:2", "let x = ;", "        ^"]
    assert "SyntaxError: Unexpected token ';'" in _lines(trace)
    assert _lines(trace, "stdout") == []


def test_js_process_exit_in_a_timer() -> None:
    source = (
        "setTimeout(() => { console.log('bye'); process.exit(3); }, 10);\n"
        "setTimeout(() => console.log('never'), 50);\n"
    )
    trace = _run(_snippet("javascript", source))
    assert [(line.text, line.queue) for line in trace.lines] == [("bye", "timers")]
    assert trace.exit_code == 3


def test_js_invalid_utf8_output() -> None:
    source = "process.stdout.write(Buffer.from([0x66, 0xff, 0xfe, 0x0a]));\n"
    trace = _run(_snippet("javascript", source))
    assert _lines(trace, "stdout") == ["f\ufffd\ufffd"]


def test_py_input_reads_end_of_file_at_once() -> None:
    trace = _run(_snippet("python", "answer = input()\n"))
    assert _lines(trace)[-1] == "EOFError: EOF when reading a line"
    assert trace.exit_code == 1


# --- the sandbox ---------------------------------------------------------------------------------


def test_js_spawn_is_denied() -> None:
    trace = _run(
        _snippet("javascript", f"require('child_process').spawn('sleep', ['{MARKER}']);\n")
    )
    _access_denied(trace, "--allow-child-process")


def test_js_allowed_child_detached_grandchild_dies_with_the_run() -> None:
    source = (
        "const { spawn } = require('child_process');\n"
        f"spawn('sleep', ['{MARKER}'], {{ detached: true, stdio: 'ignore' }}).unref();\n"
        "setInterval(() => {}, 1000);\n"
    )
    assert _breach(_snippet("javascript", source, ("child",))) == _time_limit("hostile.js")


def test_py_subprocess_detached_is_ended_with_the_run() -> None:
    source = (
        "import subprocess\n"
        f"subprocess.Popen(['sleep', '{MARKER}'], start_new_session=True)\n"
        "print('started')\n"
    )
    trace = _run(_snippet("python", source, ("child",)))
    assert _lines(trace, "stdout") == ["started"]


def test_py_fork_is_ended_with_the_run() -> None:
    source = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        f"    os.execvp('sleep', ['sleep', '{MARKER}'])\n"
        "print('parent done')\n"
    )
    trace = _run(_snippet("python", source, ("child",)))
    assert _lines(trace, "stdout") == ["parent done"]


def test_py_native_fork_without_child_is_possible_and_ended_with_the_run() -> None:
    # What the guide says: without allow="child" a bare fork() through native code still makes
    # a copy of the process (Landlock refuses exec, not fork); the PID namespace ends it.
    source = (
        "import ctypes, time\n"
        "if ctypes.CDLL(None).fork() == 0:\n"
        "    while True:\n"
        "        time.sleep(1)\n"
        "print('parent done')\n"
    )
    trace = _run(_snippet("python", source))
    assert _lines(trace, "stdout") == ["parent done"]


def _child_denied(event: str) -> str:
    return (
        f"PermissionError: {event}: child processes are not allowed in this snippet "
        '(allow="child" allows them)'
    )


@pytest.mark.parametrize(
    ("source", "event"),
    [
        (f"import subprocess\nsubprocess.run(['sleep', '{MARKER}'])\n", "subprocess.Popen"),
        (
            f"import asyncio\nasyncio.run(asyncio.create_subprocess_exec('sleep', '{MARKER}'))\n",
            "subprocess.Popen",
        ),
        (f"import os\nos.system('sleep {MARKER}')\n", "os.system"),
        ("import os\nos.fork()\n", "os.fork"),
        (
            f"import os\nos.posix_spawn('/bin/sleep', ['sleep', '{MARKER}'], {{}})\n",
            "os.posix_spawn",
        ),
        (f"import os\nos.execv('/bin/sleep', ['sleep', '{MARKER}'])\n", "os.exec"),
        (
            "import multiprocessing\n"
            "if __name__ == '__main__':\n"
            "    multiprocessing.Process(target=print).start()\n",
            "os.fork",
        ),
        (
            "import multiprocessing\n"
            "if __name__ == '__main__':\n"
            "    multiprocessing.get_context('spawn').Process(target=print).start()\n",
            "_posixsubprocess.fork_exec",
        ),
    ],
)
def test_py_child_processes_are_denied_unless_allowed(source: str, event: str) -> None:
    trace = _run(_snippet("python", source))
    assert _lines(trace)[-1] == _child_denied(event)
    # The refusal points at the snippet's line, as any exception does; no frame of looplens.
    assert _lines(trace)[1].startswith('  File "/looplens/hostile.py", line ')
    assert not any("_looplens" in line for line in _lines(trace))
    assert trace.exit_code == 1


def test_py_allowed_child_runs_programs_and_multiprocessing() -> None:
    source = (
        "import multiprocessing, subprocess\n"
        "def square(n):\n"
        "    return n * n\n"
        "if __name__ == '__main__':\n"
        "    done = subprocess.run(['echo', 'from echo'], capture_output=True, text=True)\n"
        "    print(done.stdout.strip())\n"
        "    with multiprocessing.Pool(2) as pool:\n"
        "        print(pool.map(square, [1, 2, 3]))\n"
    )
    trace = _run(_snippet("python", source, ("child",)), ROOMY)
    assert _lines(trace, "stdout") == ["from echo", "[1, 4, 9]"]
    assert trace.exit_code == 0


def test_py_fork_bomb_is_capped_and_ended() -> None:
    source = (
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    )
    assert _breach(_snippet("python", source, ("child",))) == _time_limit("hostile.py")


@pytest.mark.skipif(not namespaces.tasks_capped(), reason="the task cap needs namespaces")
def test_py_a_run_has_at_most_max_tasks_processes() -> None:
    source = (
        "import os, time\n"
        "children = 0\n"
        "try:\n"
        "    while True:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(30)\n"
        "            os._exit(0)\n"
        "        children += 1\n"
        "except OSError as error:\n"
        "    print(children, error)\n"
    )
    trace = _run(_snippet("python", source, ("child",)), ROOMY)
    # The snippet's own process is one of the MAX_TASKS.
    expected = f"{namespaces.MAX_TASKS - 1} [Errno 11] Resource temporarily unavailable"
    assert _lines(trace, "stdout") == [expected]


def _permission_denied(trace: Trace, path: str) -> None:
    assert _lines(trace)[-1] == f"PermissionError: [Errno 13] Permission denied: '{path}'"
    assert trace.exit_code == 1


def test_py_reading_etc_passwd_is_denied() -> None:
    source = "print(open('/etc/passwd').read())\n"
    _permission_denied(_run(_snippet("python", source)), "/etc/passwd")


def test_py_listing_a_folder_outside_is_denied() -> None:
    _permission_denied(_run(_snippet("python", "import os\nos.listdir('/etc')\n")), "/etc")


def test_py_read_allowed_reads_any_file() -> None:
    source = "print(open('/etc/passwd').read().splitlines()[0].split(':')[0])\n"
    trace = _run(_snippet("python", source, ("read",)))
    assert _lines(trace, "stdout") == ["root"]


@pytest.fixture
def host_folder() -> Iterator[Path]:
    """A folder that a run sees as the host does: not under /tmp or the other folders a run's
    mount namespace hides (a write there would fail for that reason, not for the file rules).
    Beside the tests, unless the project itself sits in one of them (a CI checkout in /tmp):
    then in the home folder."""
    here = Path(__file__).parent.resolve()
    hidden = [Path(folder) for folder in namespaces.hidden_folders()]
    base = Path.home() if any(here.is_relative_to(folder) for folder in hidden) else here
    with tempfile.TemporaryDirectory(prefix=".hostile-", dir=base) as folder:
        yield Path(folder)


@pytest.mark.parametrize("allow", [(), ("write",)])
def test_py_file_write_outside_the_folder_is_denied(
    allow: tuple[str, ...], host_folder: Path
) -> None:
    outside = host_folder / "x"
    source = f"open('{outside}', 'w').write('x')\n"
    _permission_denied(_run(_snippet("python", source, allow)), str(outside))
    assert not outside.exists()


def test_py_writes_nowhere_by_default_not_even_in_its_folder() -> None:
    source = "open('notes.txt', 'w').write('x')\n"
    _permission_denied(_run(_snippet("python", source)), "notes.txt")


def test_py_write_allowed_writes_in_its_own_folder() -> None:
    source = (
        "import os, pathlib\n"
        "pathlib.Path('notes.txt').write_text('kept')\n"
        "os.mkdir('sub')\n"
        "os.rename('notes.txt', 'sub/notes.txt')\n"
        "print(open('sub/notes.txt').read(), sorted(os.listdir('.')))\n"
    )
    trace = _run(_snippet("python", source, ("write",)))
    assert _lines(trace, "stdout") == ["kept ['hostile.py', 'sub']"]


def test_py_tempfile_works_with_write_and_only_then() -> None:
    source = (
        "import tempfile\n"
        "with tempfile.TemporaryFile() as file:\n"
        "    file.write(b'kept')\n"
        "    file.seek(0)\n"
        "    print(file.read())\n"
    )
    assert _lines(_run(_snippet("python", source, ("write",))), "stdout") == ["b'kept'"]
    denied = _run(_snippet("python", source))
    assert _lines(denied)[-1].startswith("FileNotFoundError: [Errno 2] No usable temporary")


def test_py_standard_library_and_extension_modules_still_load() -> None:
    # Extension modules load shared libraries from the system's folders after the sandbox
    # closed: a rule that forgot one would fail here.
    source = (
        "import asyncio, decimal, hashlib, json, sqlite3, ssl, zlib\n"
        "print(json.dumps(sqlite3.connect(':memory:').execute('select 2 + 3').fetchone()))\n"
    )
    trace = _run(_snippet("python", source))
    assert _lines(trace, "stdout") == ["[5]"]


def test_js_file_write_outside_the_folder_is_denied() -> None:
    source = "require('fs').writeFileSync('/tmp/looplens-hostile.txt', 'x');\n"
    _access_denied(_run(_snippet("javascript", source)), "--allow-fs-write")
    assert not Path("/tmp/looplens-hostile.txt").exists()


def test_js_reading_etc_passwd_is_denied() -> None:
    source = "console.log(require('fs').readFileSync('/etc/passwd', 'utf8'));\n"
    _access_denied(_run(_snippet("javascript", source)), "--allow-fs-read")


def test_js_reads_only_the_tracer_s_folder_of_the_package() -> None:
    # The run may read the tracer's files (the preload loads its parts), no other file of the
    # package.
    beside = PACKAGE_FOLDER / "__init__.py"
    assert beside.is_file()
    source = f"console.log(require('fs').readFileSync({json.dumps(str(beside))}, 'utf8'));\n"
    _access_denied(_run(_snippet("javascript", source)), "--allow-fs-read")


def test_js_worker_is_denied_unless_allowed() -> None:
    source = "const { Worker } = require('worker_threads');\nnew Worker('1', { eval: true });\n"
    _access_denied(_run(_snippet("javascript", source)), "--allow-worker")


def test_js_allowed_worker_prints_no_security_warning() -> None:
    source = (
        "const { Worker } = require('worker_threads');\n"
        "new Worker('console.log(\"from the worker\")', { eval: true });\n"
    )
    trace = _run(_snippet("javascript", source, ("worker",)))
    assert [line.text for line in trace.lines] == ["from the worker"]


def test_js_outbound_network_fails_at_once() -> None:
    # 10.255.255.1 is not routable; in the snippet's network namespace nothing is.
    source = (
        "const socket = require('net').connect(80, '10.255.255.1');\n"
        "socket.on('error', (error) => console.log(error.code));\n"
    )
    trace = _run(_snippet("javascript", source))
    assert _lines(trace, "stdout") == ["ENETUNREACH"]


def test_py_outbound_network_fails_at_once() -> None:
    source = (
        "import socket\n"
        "try:\n"
        "    socket.create_connection(('10.255.255.1', 80), timeout=30)\n"
        "except OSError as error:\n"
        "    print(error)\n"
    )
    trace = _run(_snippet("python", source))
    assert _lines(trace, "stdout") == ["[Errno 101] Network is unreachable"]


def test_js_loopback_without_net_is_down() -> None:
    # Without allow="net" loopback is down: a server can listen, but nothing can connect to it.
    source = (
        "const net = require('net');\n"
        "const server = net.createServer().listen(0, '127.0.0.1', () => {\n"
        "  net.connect(server.address().port, '127.0.0.1')\n"
        "    .on('error', (error) => { console.log(error.code); server.close(); });\n"
        "});\n"
    )
    trace = _run(_snippet("javascript", source))
    assert _lines(trace, "stdout") == ["ENETUNREACH"]


def test_js_listening_socket_without_permission_runs_into_the_time_limit() -> None:
    # Node 24 has no network permission: the listen succeeds inside the empty namespace, where
    # nothing can reach it, and the open server keeps the snippet alive until the time limit.
    source = "require('net').createServer().listen(8080, () => console.log('listening'));\n"
    assert _breach(_snippet("javascript", source)) == _time_limit("hostile.js")


def test_js_loopback_with_net_allowed_works() -> None:
    source = (
        "const net = require('net');\n"
        "const server = net.createServer((c) => c.end('hi')).listen(0, '127.0.0.1', () => {\n"
        "  net.connect(server.address().port, '127.0.0.1')\n"
        "    .on('data', (data) => { console.log(String(data)); server.close(); });\n"
        "});\n"
    )
    trace = _run(_snippet("javascript", source, ("net",)))
    assert _lines(trace, "stdout") == ["hi"]


def test_py_file_size_limit() -> None:
    # Allowed to write (in its temporary folder), Python still cannot pass the file size limit.
    source = (
        "with open('big.bin', 'wb') as file:\n"
        "    for _ in range(300):\n"
        "        file.write(bytes(1 << 20))\n"
    )
    options = Limits(timeout_s=5.0, output_bytes=64 * 1024, memory_bytes=64 * MB)
    trace = _run(_snippet("python", source, ("write",)), options)
    # Python ignores SIGXFSZ: the write fails with an exception instead of killing the process.
    assert _lines(trace)[-1] == "OSError: [Errno 27] File too large"


# --- the cache -----------------------------------------------------------------------------------


def test_a_run_that_timed_out_is_not_cached(tmp_path: Path) -> None:
    snippet = _snippet("javascript", "while (true) {}\n")
    pool = TracePool(1, LIMITS, TraceCache(tmp_path))
    with pytest.raises(TracerError):
        pool.run_set(snippet)[0]
    pool.close()
    assert TraceCache(tmp_path).get_entry(snippet_digest(snippet, LIMITS)) is None
    assert list(tmp_path.iterdir()) == []


def test_a_run_that_broke_a_limit_does_not_touch_other_results(tmp_path: Path) -> None:
    good = Snippet("good", "javascript", "good.js", "console.log('ok');\n", "docs/a.md", 1)
    flood = _snippet("python", "while True:\n    print('x' * 1000)\n")
    pool = TracePool(2, LIMITS, TraceCache(tmp_path))
    bad_future, good_future = pool.submit_runs(flood), pool.submit_runs(good)
    assert isinstance(bad_future.exception(), LimitError)
    assert _lines(good_future.result()[0], "stdout") == ["ok"]
    pool.close()
    assert TraceCache(tmp_path).get_entry(snippet_digest(flood, LIMITS)) is None
    assert TraceCache(tmp_path).get_entry(snippet_digest(good, LIMITS)) is not None


# --- fence options -------------------------------------------------------------------------------


def test_fence_options_set_limits_and_permissions() -> None:
    page = (
        '```js {#opened .trace timeout=30 output=2MB events=50000 memory=1GB allow="worker,net"}\n'
        "console.log(1);\n"
        "```\n"
    )
    snippet = collect_snippets(page, "docs/p.md", [])[0]
    assert snippet.limits == LimitOverrides(30.0, 2 * MB, 50000, 1024 * MB)
    assert snippet.allow == ("net", "worker")
    assert snippet_digest(snippet, Limits()) != snippet_digest(
        collect_snippets(page.replace(' allow="worker,net"', ""), "docs/p.md", [])[0], Limits()
    )


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("timeout=soon", "timeout must be seconds above 0, not 'soon'"),
        ("memory=lots", "memory must be a size like 2MB above 0, not 'lots'"),
        (
            'allow="disk"',
            "allow cannot open 'disk' (it can open: worker, net, read, write, child, addons)",
        ),
    ],
)
def test_bad_fence_options_are_errors(option: str, message: str) -> None:
    page = f"```js {{#bad .trace {option}}}\nconsole.log(1);\n```\n"
    with pytest.raises(SnippetError) as caught:
        collect_snippets(page, "docs/p.md", [])
    assert str(caught.value) == f"docs/p.md:1: snippet 'bad': {message}"


def test_js_snippet_is_process_2_of_its_own_pid_namespace() -> None:
    # A shell is process 1 (which ignores unhandled signals); the snippet always gets pid 2.
    trace = _run(_snippet("javascript", "console.log(process.pid);\n"))
    assert _lines(trace, "stdout") == ["2"]


def test_the_build_environment_does_not_reach_a_snippet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOPLENS_TEST_SECRET", "hunter2")
    js = _run(_snippet("javascript", "console.log(process.env.LOOPLENS_TEST_SECRET);\n"))
    py = _run(_snippet("python", "import os\nprint(os.environ.get('LOOPLENS_TEST_SECRET'))\n"))
    assert (_lines(js, "stdout"), _lines(py, "stdout")) == (["undefined"], ["None"])


def test_mkdocs_options_set_the_site_limits() -> None:
    config = LooplensConfig()
    config.load_dict({"timeout": 3, "max_output": "2MB", "max_events": 500, "max_memory": "1GB"})
    assert config.validate() == ([], [])
    assert site_limits(config) == Limits(3, 2 * MB, 500, 1024 * MB)


# --- a racy order --------------------------------------------------------------------------------

RACY = (
    "setTimeout(() => console.log('timeout'), 0);\nsetImmediate(() => console.log('immediate'));\n"
)


def test_js_racy_order_fails_unless_marked_and_then_each_run_prints_a_declared_ordering() -> None:
    unmarked = _snippet("javascript", RACY)
    verdict = judge(unmarked, trace_runs(unmarked, ROOMY, 1)).verdict
    assert verdict is not None and verdict.output is None
    (reason,) = verdict.reasons
    # Whichever ran first, the reason names both callbacks, what decided, the margin it had and
    # the rule of the loop behind this race.
    assert re.match(
        r"its printed order can change from run to run: the set(Timeout|Immediate) callback of "
        r"line [12] ran before the set(Timeout|Immediate) callback of line [12], an order decided "
        r"by whether a timer was due when the loop looked with [0-9.]+ ms to spare \(the page "
        r"needs 10 ms\): setTimeout at line 1 \(due after 1 ms\) and setImmediate at line 2 are "
        r"both scheduled from the main script, outside an I/O callback: ",
        reason,
    ), reason
    assert reason.endswith(
        "if the race is the point, mark the fence .nondeterministic and declare each possible "
        "output in its own {.expect} fence after it; if not, change the snippet so that its "
        "order is fixed: let the loop's rules decide it (schedule one callback from the other) "
        "or give the clock more room than the minimum margin (figures measured on the build "
        "machine belong in a fence marked .measured)"
    )
    orderings = tuple(
        parse_expectation(body, fence_line=line)
        for body, line in (("immediate\ntimeout", 6), ("timeout\nimmediate", 11))
    )
    marked = dataclasses.replace(unmarked, nondeterministic=True, orderings=orderings)
    judgement = judge(marked, trace_runs(marked, ROOMY, 6))
    assert judgement.verdict is None
    assert judgement.orderings is not None
    assert sum(declared.seen for declared in judgement.orderings.declared) == 6
    # An ordering that no fence declares fails like a wrong expectation.
    reversed_run = dataclasses.replace(judgement.shown, lines=judgement.shown.lines[::-1])
    one_twice = dataclasses.replace(marked, orderings=(orderings[0], orderings[0]))
    if judgement.shown.lines[0].text == "timeout":
        one_twice = dataclasses.replace(marked, orderings=(orderings[1], orderings[1]))
    stray = judge(one_twice, [reversed_run]).verdict
    assert stray is not None and "none of its 2 declared orderings" in stray.reasons[0]


# --- the host's Unix sockets and shared memory ---------------------------------------------------


def _writable_folders(*folders: str) -> list[str]:
    return [folder for folder in folders if Path(folder).is_dir() and os.access(folder, os.W_OK)]


@pytest.fixture(params=_writable_folders("/tmp", "/run"))
def host_socket(request: pytest.FixtureRequest) -> Iterator[tuple[str, socket.socket]]:
    """A Unix socket listening in a host folder, made by the test's own process, and its path."""
    with (
        tempfile.TemporaryDirectory(prefix="looplens-socket-", dir=request.param) as folder,
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener,
    ):
        path = str(Path(folder) / "service.sock")
        listener.bind(path)
        listener.listen()
        listener.setblocking(False)
        yield path, listener


def _never_connected(listener: socket.socket) -> None:
    with pytest.raises(BlockingIOError):
        listener.accept()


_needs_hiding = pytest.mark.skipif(
    not namespaces.hides_host_folders(), reason="needs a mount namespace (unshare --mount)"
)


@_needs_hiding
@pytest.mark.parametrize("allow", [(), ("net", "read")], ids=["closed", "net-and-read"])
def test_py_cannot_connect_to_a_host_unix_socket(
    host_socket: tuple[str, socket.socket], allow: tuple[str, ...]
) -> None:
    path, listener = host_socket
    source = (
        "import socket\n"
        "client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
        "try:\n"
        f"    client.connect({path!r})\n"
        "    print('connected')\n"
        "except OSError as error:\n"
        "    print(error)\n"
    )
    trace = _run(_snippet("python", source, allow))
    assert _lines(trace, "stdout") == ["[Errno 2] No such file or directory"]
    _never_connected(listener)


@_needs_hiding
@pytest.mark.parametrize("allow", [(), ("net", "read")], ids=["closed", "net-and-read"])
def test_js_cannot_connect_to_a_host_unix_socket(
    host_socket: tuple[str, socket.socket], allow: tuple[str, ...]
) -> None:
    path, listener = host_socket
    source = (
        f"require('net').connect({path!r})\n"
        "  .on('connect', () => console.log('connected'))\n"
        "  .on('error', (error) => console.log(error.code, error.syscall));\n"
    )
    trace = _run(_snippet("javascript", source, allow))
    assert _lines(trace, "stdout") == ["ENOENT connect"]
    _never_connected(listener)


@pytest.fixture
def abstract_socket() -> Iterator[tuple[str, socket.socket]]:
    """A Unix socket listening in the abstract namespace (no file: the network namespace's)."""
    name = f"\0looplens-test-{os.getpid()}-{time.monotonic_ns()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(name)
        listener.listen()
        listener.setblocking(False)
        yield name, listener


def test_py_cannot_connect_to_a_host_abstract_socket(
    abstract_socket: tuple[str, socket.socket],
) -> None:
    name, listener = abstract_socket
    source = (
        "import socket\n"
        "client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
        "try:\n"
        f"    client.connect({name!r})\n"
        "    print('connected')\n"
        "except OSError as error:\n"
        "    print(error)\n"
    )
    trace = _run(_snippet("python", source, ("net",)))
    assert _lines(trace, "stdout") == ["[Errno 111] Connection refused"]
    _never_connected(listener)


def test_js_cannot_connect_to_a_host_abstract_socket(
    abstract_socket: tuple[str, socket.socket],
) -> None:
    name, listener = abstract_socket
    # Node names an abstract socket with a leading NUL too.
    source = (
        f"require('net').connect({name!r})\n"
        "  .on('connect', () => console.log('connected'))\n"
        "  .on('error', (error) => console.log(error.code));\n"
    )
    trace = _run(_snippet("javascript", source, ("net",)))
    assert _lines(trace, "stdout") == ["ECONNREFUSED"]
    _never_connected(listener)


@pytest.mark.skipif(
    python_sandbox.file_enforcement() != "landlock", reason="no Landlock in this kernel"
)
def test_py_landlock_alone_keeps_a_snippet_from_host_abstract_sockets(
    tmp_path: Path, abstract_socket: tuple[str, socket.socket]
) -> None:
    # Without the namespaces (where unshare is refused), Landlock's scope (ABI 6) is what holds.
    if _looplens_sandbox.landlock_abi() < 6:
        pytest.skip("Landlock before ABI 6 has no scopes")
    name, listener = abstract_socket
    (tmp_path / "snippet.py").write_text(
        "import socket\n"
        "client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
        "try:\n"
        f"    client.connect({name!r})\n"
        "    print('connected')\n"
        "except OSError as error:\n"
        "    print(error)\n"
        "own = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
        "own.bind('\\0' + 'own' + str(id(own)))\n"
        "own.listen()\n"
        "again = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
        "again.connect(own.getsockname())\n"
        "print('own socket reachable')\n"
    )
    done = _run_directly(tmp_path, python_sandbox.file_rules(tmp_path, ("net",)))
    assert done.stdout.splitlines() == [
        "[Errno 1] Operation not permitted",
        "own socket reachable",
    ], done.stderr
    _never_connected(listener)


@_needs_hiding
def test_py_shared_memory_of_allowed_child_processes_stays_in_the_run() -> None:
    # POSIX shared memory and semaphores (multiprocessing's) live in /dev/shm: the run's own,
    # which neither shows the host's files nor leaves any behind.
    name = f"looplens-test-{os.getpid()}-{time.monotonic_ns()}"
    host_file = Path("/dev/shm") / f"{name}-host"
    host_file.write_text("host")
    try:
        source = (
            "import os\n"
            f"print(os.path.exists('/dev/shm/{name}-host'))\n"
            f"with open('/dev/shm/{name}-run', 'w') as made:\n"
            "    made.write('run')\n"
            f"print(open('/dev/shm/{name}-run').read())\n"
            "import _posixshmem\n"
            f"os.close(_posixshmem.shm_open('/{name}-shared', os.O_CREAT | os.O_RDWR, 0o600))\n"
            f"print(sorted(os.listdir('/dev/shm')) == ['{name}-run', '{name}-shared'])\n"
        )
        trace = _run(_snippet("python", source, ("child",)))
        assert _lines(trace, "stdout") == ["False", "run", "True"]
        assert sorted(path.name for path in Path("/dev/shm").glob(f"{name}*")) == [host_file.name]
    finally:
        host_file.unlink()


def test_where_a_mount_namespace_is_refused_runs_go_on_without_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The probe finds that unshare --mount is refused (as in a container without the right):
    # runs keep their other namespaces, and see the host's /dev/shm (what the guide says).
    probe = subprocess.run

    def refuse_mount_namespace(words: list[str], **options: Any) -> Any:
        if "--mount" in words:
            return subprocess.CompletedProcess(words, 1)
        return probe(words, **options)

    monkeypatch.setattr(subprocess, "run", refuse_mount_namespace)
    prefix = namespaces.namespace_prefix.__wrapped__(False)
    monkeypatch.setattr(subprocess, "run", probe)
    assert prefix.words
    assert not prefix.hides_folders
    monkeypatch.setattr(command, "namespace_prefix", lambda loopback: prefix)
    name = f"looplens-test-{os.getpid()}-{time.monotonic_ns()}"
    host_file = Path("/dev/shm") / name
    host_file.write_text("host")
    try:
        source = f"import os\nprint(os.path.exists('/dev/shm/{name}'), os.getpid())\n"
        trace = _run(_snippet("python", source, ("read",)))
    finally:
        host_file.unlink()
    assert _lines(trace, "stdout") == ["True 2"]


def _run_directly(
    folder: Path, rules: python_sandbox.FileRules
) -> subprocess.CompletedProcess[str]:
    """Run folder/snippet.py under `rules` alone: no namespace, no tracer."""
    environment = {
        **python_environment(),
        "PYTHONPATH": str(python_sandbox.TRACER_DIR),
        child.SANDBOX_VARIABLE: rules.to_json(),
    }
    return subprocess.run(
        [sys.executable, "snippet.py"],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_py_audit_hook_checks_every_thread_while_one_resolves_a_path(tmp_path: Path) -> None:
    # One thread keeps the hook resolving paths (open in its own folder, allowed); another
    # keeps opening a file outside. The hook's "resolving" state is per thread: none opens.
    (tmp_path / "inside.txt").write_text("inside")
    (tmp_path / "snippet.py").write_text(
        "import threading\n"
        "stop = threading.Event()\n"
        "def churn():\n"
        "    while not stop.is_set():\n"
        "        open('inside.txt').close()\n"
        "opened = 0\n"
        "def probe():\n"
        "    global opened\n"
        "    for _ in range(20000):\n"
        "        try:\n"
        "            open('/etc/hostname').close()\n"
        "            opened += 1\n"
        "        except PermissionError:\n"
        "            pass\n"
        "churners = [threading.Thread(target=churn) for _ in range(2)]\n"
        "for thread in churners:\n"
        "    thread.start()\n"
        "probe()\n"
        "stop.set()\n"
        "for thread in churners:\n"
        "    thread.join()\n"
        "print('opened', opened)\n"
    )
    rules = dataclasses.replace(python_sandbox.file_rules(tmp_path, ()), landlock=False)
    done = _run_directly(tmp_path, rules)
    assert done.stdout.splitlines() == ["opened 0"], done.stderr


# --- the file rules, with Landlock and with the audit hook alone --------------------------------

_FILE_CASES = (
    "import os, sqlite3\n"
    "def attempt(what, action):\n"
    "    try:\n"
    "        action()\n"
    "        print(what, 'ok')\n"
    "    except OSError as error:\n"
    "        print(what, type(error).__name__, error.errno, error.filename)\n"
    "attempt('read own folder', lambda: open('snippet.py').read())\n"
    "attempt('read /etc/passwd', lambda: open('/etc/passwd').read())\n"
    "attempt('list /etc', lambda: os.listdir('/etc'))\n"
    "attempt('write own folder', lambda: open('notes.txt', 'w').write('x'))\n"
    "attempt('os.open to write', lambda: os.open('made.txt', os.O_CREAT | os.O_WRONLY))\n"
    "attempt('write /dev/null', lambda: open(os.devnull, 'w').write('x'))\n"
    "attempt('load sqlite3', lambda: sqlite3.connect(':memory:'))\n"
)


@pytest.mark.parametrize("landlock", [True, False], ids=["landlock", "audit-hook"])
@pytest.mark.parametrize("allow", [(), ("read", "write")], ids=["closed", "opened"])
def test_py_file_rules_are_the_same_with_either_enforcement(
    tmp_path: Path, landlock: bool, allow: tuple[str, ...]
) -> None:
    if landlock and python_sandbox.file_enforcement() != "landlock":
        pytest.skip("no Landlock in this kernel")
    (tmp_path / "snippet.py").write_text(_FILE_CASES)
    rules = dataclasses.replace(python_sandbox.file_rules(tmp_path, allow), landlock=landlock)
    environment = {
        **python_environment(),
        "PYTHONPATH": str(python_sandbox.TRACER_DIR),
        child.SANDBOX_VARIABLE: rules.to_json(),
    }
    done = subprocess.run(
        [sys.executable, "snippet.py"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    opened = bool(allow)
    denied = "PermissionError 13"
    assert done.stdout.splitlines() == [
        "read own folder ok",
        "read /etc/passwd ok" if opened else f"read /etc/passwd {denied} /etc/passwd",
        "list /etc ok" if opened else f"list /etc {denied} /etc",
        "write own folder ok" if opened else f"write own folder {denied} notes.txt",
        "os.open to write ok" if opened else f"os.open to write {denied} made.txt",
        "write /dev/null ok",
        "load sqlite3 ok",
    ], done.stderr
    assert (tmp_path / "notes.txt").exists() == opened
