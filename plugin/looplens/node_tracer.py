"""Trace a JavaScript or TypeScript file: run it on the bundled Node with the looplens preload.

The preload (tracers/node/preload.cjs) writes its records to a temporary file whose descriptor the
child inherits (pass_fds); it is read after Node exits, so no pipe can fill up and block the run.
Node's own stdout and stderr are captured as bytes: they are the truth of what was printed. Node
exiting ends the run, even if something it started still holds the pipes; nothing waits past the
time limit, after which Node's whole process group is killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from looplens.errors import TracerError
from looplens.node_output import Arrivals
from looplens.node_records import TraceBuilder
from looplens.runtimes import node_binary, node_version
from looplens.trace import PrintedLine, Stream, Trace

PRELOAD = Path(__file__).parent / "tracers" / "node" / "preload.cjs"
TRACE_FD_VARIABLE = "LOOPLENS_TRACE_FD"
READ_SIZE = 1 << 16
#: Without a process descriptor to wait on, how often to check whether Node has exited.
EXIT_POLL_S = 0.05
#: How long a killed Node may take to be reaped.
KILL_WAIT_S = 5.0


def trace_javascript(
    path: Path, *, timeout_s: float = 10.0, display_path: str | None = None
) -> Trace:
    """Run `path` (.js, .cjs, .mjs or .ts) from its folder and trace it.

    With `display_path`, the file's folder is replaced by it in the printed text, so that a page
    does not show a temporary path. Raises TracerError if the file cannot be traced.
    """
    given_folder = path.absolute().parent
    path = path.resolve()
    if not path.is_file():
        raise TracerError(f"no such file: {path}")
    with tempfile.TemporaryFile(prefix="looplens-trace-") as side_channel:
        fd = side_channel.fileno()
        stdout, stderr, arrivals, exit_code = _run(path, fd, timeout_s)
        side_channel.seek(0)
        records = _parse(side_channel.read())
    if not records or records[0].get("k") != "thread":
        raise TracerError(f"the tracer did not start in Node (exit code {exit_code})")
    builder = TraceBuilder()
    for index, record in enumerate(records):
        builder.feed(index, record)
    output: dict[Stream, bytes] = {"stdout": stdout, "stderr": stderr}
    trace = builder.finish(output, exit_code, node_version(), arrivals)
    if display_path is None:
        return trace
    return _replace_folder(trace, (given_folder, path.parent), display_path)


@dataclass(slots=True)
class _Captured:
    """One of Node's output streams: its bytes, and when each chunk of them was read."""

    chunks: list[bytes] = field(default_factory=list)
    size: int = 0
    arrivals: Arrivals = field(default_factory=list)

    def add(self, data: bytes) -> None:
        self.chunks.append(data)
        self.size += len(data)
        self.arrivals.append((self.size, time.monotonic_ns() // 1000))


def _run(path: Path, fd: int, timeout_s: float) -> tuple[bytes, bytes, dict[Stream, Arrivals], int]:
    command = [str(node_binary()), "--require", str(PRELOAD), str(path)]
    process = subprocess.Popen(
        command,
        cwd=path.parent,
        env={**os.environ, TRACE_FD_VARIABLE: str(fd)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        pass_fds=(fd,),
        # Its own process group, so that a time-out also ends whatever the snippet started.
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout_s
    try:
        captured = _read_until_exit(process, deadline)
        if captured is not None and _wait(process, deadline):
            stdout, stderr = captured
            arrivals: dict[Stream, Arrivals] = {
                "stdout": stdout.arrivals,
                "stderr": stderr.arrivals,
            }
            # A shell reports death by signal N as 128 + N; so does the trace.
            code = process.returncode
            exit_code = code if code >= 0 else 128 - code
            return b"".join(stdout.chunks), b"".join(stderr.chunks), arrivals, exit_code
        # Out of time: Node has not exited, so its group is still there to kill.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        _wait(process, time.monotonic() + KILL_WAIT_S)
    finally:
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
    raise TracerError(f"{path.name} did not finish within {timeout_s:g} s")


def _read_until_exit(
    process: subprocess.Popen[bytes], deadline: float
) -> tuple[_Captured, _Captured] | None:
    """Node's stdout and stderr, read until both close or Node exits; None past the deadline.

    A process that the snippet started may keep the pipes open after Node exits (a detached child
    with inherited stdio): Node's exit ends the reading, after what is already in the pipes.
    """
    assert process.stdout is not None and process.stderr is not None
    stdout, stderr = _Captured(), _Captured()
    streams = {process.stdout.fileno(): stdout, process.stderr.fileno(): stderr}
    exit_fd = _exit_watch(process)
    exited = False
    with selectors.DefaultSelector() as selector:
        for pipe_fd in streams:
            selector.register(pipe_fd, selectors.EVENT_READ)
        if exit_fd is not None:
            selector.register(exit_fd, selectors.EVENT_READ)
        try:
            while len(selector.get_map()) > (0 if exit_fd is None else 1):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                if exited:
                    wait = 0.0
                elif exit_fd is None:
                    wait = min(remaining, EXIT_POLL_S)
                else:
                    wait = remaining
                ready = [key.fd for key, _ in selector.select(wait)]
                for ready_fd in ready:
                    if ready_fd == exit_fd:
                        exited = True
                        selector.unregister(exit_fd)
                        os.close(exit_fd)
                        exit_fd = None
                        continue
                    data = os.read(ready_fd, READ_SIZE)
                    if data:
                        streams[ready_fd].add(data)
                    else:
                        selector.unregister(ready_fd)
                if exited and not any(ready_fd in streams for ready_fd in ready):
                    break  # Node is gone and nothing more is waiting in the pipes.
                if exit_fd is None and not exited and process.poll() is not None:
                    exited = True
        finally:
            if exit_fd is not None:
                os.close(exit_fd)
    return stdout, stderr


def _exit_watch(process: subprocess.Popen[bytes]) -> int | None:
    """A descriptor that becomes readable when Node exits (Linux), or None: then poll."""
    pidfd_open = getattr(os, "pidfd_open", None)
    if pidfd_open is None:
        return None
    try:
        return int(pidfd_open(process.pid))
    except OSError:
        return None


def _wait(process: subprocess.Popen[bytes], deadline: float) -> bool:
    try:
        process.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return False
    return True


def _parse(data: bytes) -> list[dict[str, Any]]:
    records = []
    for line in data.splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            # Only a record cut short by a dying process can be malformed: ignore it.
            continue
    return records


def _replace_folder(trace: Trace, folders: tuple[Path, Path], display: str) -> Trace:
    # The folder as given and as resolved: Node reports files by their real path, while a path
    # in the snippet's own text may go through a link.
    names = sorted({str(folder) for folder in folders}, key=len, reverse=True)

    def replaced(line: PrintedLine) -> PrintedLine:
        text = line.text
        for name in names:
            text = text.replace(name, display)
        return replace(line, text=text)

    return replace(trace, lines=tuple(replaced(line) for line in trace.lines))
