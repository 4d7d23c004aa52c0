"""Start one run's process, read its output under the time and output limits, and end its whole
process tree.

The command comes from sandbox_command (see command.py). Standard input is closed; the child
gets its own session and process group besides its namespaces, so that a breach of a limit,
which raises LimitError naming the limit, its value and how to raise it, ends everything it
started: SIGTERM, then SIGKILL for what is left.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from looplens.limits import LimitError, Limits
from looplens.sandbox.command import sandbox_command

#: (bytes read so far, microseconds) for each chunk read from a stream.
Arrivals = list[tuple[int, int]]

#: How long a process tree told to stop (SIGTERM) has before it is killed (SIGKILL).
TERM_GRACE_S = 0.5
KILL_WAIT_S = 5.0
READ_SIZE = 1 << 16
#: Without a process descriptor to wait on, how often to check whether the child has exited.
EXIT_POLL_S = 0.05


@dataclass(slots=True)
class Captured:
    """One of the child's output streams: its bytes, and when each chunk of them was read."""

    chunks: list[bytes] = field(default_factory=list)
    size: int = 0
    arrivals: Arrivals = field(default_factory=list)

    def add(self, data: bytes) -> None:
        self.chunks.append(data)
        self.size += len(data)
        self.arrivals.append((self.size, time.monotonic_ns() // 1000))

    def data(self) -> bytes:
        return b"".join(self.chunks)


@dataclass(frozen=True, slots=True)
class Finished:
    stdout: Captured
    stderr: Captured
    #: As a shell reports it: death by signal N is 128 + N.
    exit_code: int


def run_sandboxed(
    command: list[str],
    *,
    cwd: str | os.PathLike[str],
    env: Mapping[str, str],
    pass_fds: tuple[int, ...],
    limits: Limits,
    language: str,
    allow: Iterable[str] = (),
    name: str,
) -> Finished:
    """Run `command` sandboxed; its output once it exits. Raises LimitError (time, output),
    after ending the whole process tree."""
    full, preexec = sandbox_command(
        command, limits, language, tuple(allow), os.fspath(cwd), pass_fds
    )
    process = subprocess.Popen(
        full,
        cwd=cwd,
        env=dict(env),
        # Closed input: a read from stdin ends at once (EOF) instead of waiting for the time limit.
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        pass_fds=pass_fds,
        # Its own session and process group: what it starts is killed with it.
        start_new_session=True,
        preexec_fn=preexec,  # only without prlimit: see sandbox_command
    )
    deadline = time.monotonic() + limits.timeout_s
    try:
        outcome = _read_until_exit(process, deadline, limits.output_bytes)
        if isinstance(outcome, tuple) and _wait(process, deadline):
            stdout, stderr = outcome
            # Anything the snippet left running in its group goes too (the PID namespace, where
            # there is one, has already ended it).
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            code = process.returncode
            return Finished(stdout, stderr, code if code >= 0 else 128 - code)
        end_tree(process)
    finally:
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
    if outcome == "output":
        raise LimitError.of("output_bytes", limits, name + " printed more than {limit}")
    raise LimitError.of("timeout_s", limits, name + " did not finish within {limit}")


def end_tree(process: subprocess.Popen[bytes]) -> None:
    """End the child's process group: SIGTERM, then SIGKILL for what is left (a snippet can trap
    SIGTERM). With the PID namespace, its first process dying kills every process inside."""
    for sig, wait in ((signal.SIGTERM, TERM_GRACE_S), (signal.SIGKILL, KILL_WAIT_S)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        if _wait(process, time.monotonic() + wait):
            # The leader is gone; anything left in its group (no namespace) is killed too.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            return


def _read_until_exit(
    process: subprocess.Popen[bytes], deadline: float, max_output: int
) -> tuple[Captured, Captured] | Literal["time", "output"]:
    """stdout and stderr, read until both close or the child exits; or which limit stopped it.

    A process that the snippet started may keep the pipes open after the child exits (a detached
    child with inherited stdio): the child's exit ends the reading, after what is in the pipes.
    """
    assert process.stdout is not None and process.stderr is not None
    stdout, stderr = Captured(), Captured()
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
                    return "time"
                wait = _select_wait(remaining, exited=exited, watching=exit_fd is not None)
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
                        if stdout.size + stderr.size > max_output:
                            return "output"
                    else:
                        selector.unregister(ready_fd)
                if exited and not any(ready_fd in streams for ready_fd in ready):
                    break  # The child is gone and nothing more is waiting in the pipes.
                if exit_fd is None and not exited and process.poll() is not None:
                    exited = True
        finally:
            if exit_fd is not None:
                os.close(exit_fd)
    return stdout, stderr


def _select_wait(remaining: float, *, exited: bool, watching: bool) -> float:
    """How long one wait for the pipes may last: not at all once the child is gone (only what is
    already in the pipes is read), until the deadline while its exit wakes the wait, else until
    the next check whether it has exited."""
    if exited:
        return 0.0
    if not watching:
        return min(remaining, EXIT_POLL_S)
    return remaining


def _exit_watch(process: subprocess.Popen[bytes]) -> int | None:
    """A descriptor that becomes readable when the child exits (Linux), or None: then poll."""
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
