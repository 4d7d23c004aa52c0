"""Trace a Python asyncio snippet: run it, traced, with a CPython of the runtime matrix (by
default the interpreter that runs looplens).

The child is a plain `python FILE` whose PYTHONPATH holds tracers/python: its sitecustomize.py
installs, before the snippet starts, a traced event loop (for asyncio.run, asyncio.Runner and
asyncio.new_event_loop), virtual time and recording sys.stdout/sys.stderr, then takes itself off
sys.path and os.environ. The interpreter runs the snippet as usual, so tracebacks, exit status and
what is printed while it shuts down are those of a plain run. The records go to the side channel
of tracing.child. The child's real stdout and stderr are what a plain `python FILE` prints in the
same environment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from looplens import PACKAGE_FOLDER
from looplens.errors import TracerError
from looplens.limits import Limits
from looplens.runtimes.matrix import default_runtime
from looplens.runtimes.runtime import Runtime
from looplens.sandbox.environment import python_environment
from looplens.sandbox.python_files import file_rules
from looplens.trace import Stream, Trace
from looplens.tracing.child import (
    SANDBOX_VARIABLE,
    TRACE_LIMIT_VARIABLE,
    VIRTUAL_TIME_VARIABLE,
    run_child,
    run_limits,
    snippet_file,
)
from looplens.tracing.display import show_folder_as
from looplens.tracing.python.records import build_trace

TRACER_DIR = PACKAGE_FOLDER / "tracers" / "python"


@dataclass(frozen=True, slots=True)
class TracedRun:
    """What one traced run of a snippet produced, before it becomes a Trace."""

    path: Path
    stdout: bytes
    stderr: bytes
    exit_code: int
    records: tuple[Mapping[str, Any], ...]
    runtime: Runtime


def run_traced(
    path: Path,
    *,
    timeout_s: float | None = None,
    virtual_time: bool = True,
    limits: Limits | None = None,
    allow: Iterable[str] = (),
    runtime: Runtime | None = None,
) -> TracedRun:
    """Run `path` from its folder under the tracer; TracerError if it cannot or times out.

    `virtual_time=False` lets asyncio's timers wait in real time (the logical clock in the trace
    is the same); use it where a snippet measures real durations on purpose. `limits` (or just
    `timeout_s`) bound the run; `allow` opens the sandbox as for Node (python_sandbox.file_rules,
    and "net": loopback up in its network namespace).
    """
    limits = run_limits(limits, timeout_s)
    path = snippet_file(path)
    runtime = runtime or default_runtime("python")
    environment = {
        **python_environment(),
        "PYTHONPATH": str(TRACER_DIR),
        VIRTUAL_TIME_VARIABLE: "1" if virtual_time else "0",
        # A traced context gives about two records (queued, ran).
        TRACE_LIMIT_VARIABLE: str(max(1, limits.trace_events // 2)),
        # glibc reserves 64 MB of address space per thread's malloc arena: with a few executor
        # threads that alone would eat the address-space limit.
        "MALLOC_ARENA_MAX": "2",
        SANDBOX_VARIABLE: file_rules(path.parent, allow, runtime).to_json(),
    }
    if "write" in allow:
        # The one folder it may write in: where tempfile makes its files too.
        environment["TMPDIR"] = str(path.parent)
    child = run_child(
        [str(runtime.executable), str(path)],
        path=path,
        environment=environment,
        limits=limits,
        language="python",
        allow=allow,
        out_of_memory=_out_of_memory,
    )
    if not child.started_as("start"):
        tail = child.stderr.decode("utf-8", errors="replace").strip().splitlines()[-1:]
        raise TracerError(
            f"the Python tracer did not start in {path.name} (exit code {child.exit_code})"
            + "".join(f": {line}" for line in tail)
        )
    return TracedRun(path, child.stdout, child.stderr, child.exit_code, child.records, runtime)


def _out_of_memory(stderr: bytes) -> bool:
    # The address-space limit shows as a MemoryError; uncaught, it ends the run as a breach.
    last = stderr.rstrip().splitlines()[-1:]
    return bool(last) and last[0].startswith(b"MemoryError")


def trace_from_run(run: TracedRun, *, display_path: str | None = None) -> Trace:
    """The Trace of a traced run; with `display_path`, the snippet's folder is shown as that."""
    output: dict[Stream, bytes] = {"stdout": run.stdout, "stderr": run.stderr}
    trace = build_trace(
        run.records, output, run.exit_code, run.runtime.identity, name=run.path.name
    )
    if display_path is None:
        return trace
    return show_folder_as(trace, (run.path.parent,), display_path)


def trace_python(
    path: Path,
    *,
    timeout_s: float | None = None,
    display_path: str | None = None,
    virtual_time: bool = True,
    limits: Limits | None = None,
    allow: Iterable[str] = (),
    runtime: Runtime | None = None,
) -> Trace:
    """Run `path` (a .py file) from its folder with the asyncio tracer, and build its Trace.

    With `display_path`, the file's folder is replaced by it in the printed text, so that a page
    does not show a temporary path. Raises TracerError if the file cannot be traced.
    """
    run = run_traced(
        path,
        timeout_s=timeout_s,
        virtual_time=virtual_time,
        limits=limits,
        allow=allow,
        runtime=runtime,
    )
    return trace_from_run(run, display_path=display_path)
