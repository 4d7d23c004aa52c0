"""Trace a JavaScript or TypeScript file: run it on a bundled Node with the looplens preload.

The preload (tracers/node/preload.cjs) writes its records to the side channel of tracing.child.
Node exiting ends the run, even if something it started still holds the pipes. Node runs under
its permission model, inside the sandbox and limits of looplens.sandbox.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from looplens.errors import TracerError
from looplens.limits import MB, Limits
from looplens.runtimes.matrix import default_runtime
from looplens.runtimes.node import WASM_WITHIN_LIMITS, permission_flag, startup_reads
from looplens.runtimes.runtime import Runtime
from looplens.sandbox.environment import scrubbed_environment
from looplens.sandbox.node_permissions import (
    PRELOAD,
    QUIET_SECURITY_WARNING,
    TRACER_FOLDER,
    node_permission_flags,
)
from looplens.trace import Trace
from looplens.tracing.child import (
    HIDDEN_ARGS_VARIABLE,
    TRACE_LIMIT_VARIABLE,
    FinishedChild,
    run_child,
    run_limits,
    snippet_file,
)
from looplens.tracing.display import show_folder_as
from looplens.tracing.node.records import build_trace


def trace_javascript(
    path: Path,
    *,
    timeout_s: float | None = None,
    display_path: str | None = None,
    limits: Limits | None = None,
    allow: Iterable[str] = (),
    runtime: Runtime | None = None,
) -> Trace:
    """Run `path` (.js, .cjs, .mjs or .ts) from its folder on `runtime` (by default the newest
    Node found) and trace it.

    With `display_path`, the file's folder is replaced by it in the printed text, so that a page
    does not show a temporary path. `limits` (or just `timeout_s`) bound the run, `allow` opens
    the sandbox (see limits.PERMISSIONS). Raises TracerError if the file cannot be traced, and
    LimitError if the run went past a limit.
    """
    limits = run_limits(limits, timeout_s)
    given_folder = path.absolute().parent
    path = snippet_file(path)
    runtime = runtime or default_runtime("javascript")
    child = _run(path, limits, allow, runtime)
    if not child.started_as("thread"):
        raise TracerError(f"the tracer did not start in Node (exit code {child.exit_code})")
    arrivals = dict(child.arrivals)
    trace = build_trace(child.records, child.output(), child.exit_code, runtime.identity, arrivals)
    if display_path is None:
        return trace
    return show_folder_as(trace, (given_folder, path.parent), display_path)


#: What Node prints on stderr when the snippet's memory ran out: V8's heap (the JavaScript heap
#: limit is --max-old-space-size) or the address-space limit (Buffers live outside the heap).
_OUT_OF_MEMORY = (
    b"JavaScript heap out of memory",
    b"Array buffer allocation failed",
    b"RangeError: Failed to allocate memory",
    b"Fatal process out of memory",
    b"Fatal JavaScript invalid size error",
)


def _out_of_memory(stderr: bytes) -> bool:
    return any(sign in stderr for sign in _OUT_OF_MEMORY)


def _run(path: Path, limits: Limits, allow: Iterable[str], runtime: Runtime) -> FinishedChild:
    heap_mb = max(16, limits.memory_bytes // MB)
    also_read = startup_reads(runtime, (path.parent, TRACER_FOLDER))
    permissions = node_permission_flags(path.parent, allow, permission_flag(runtime), also_read)
    sandbox_flags = [f"--max-old-space-size={heap_mb}", WASM_WITHIN_LIMITS, *permissions]
    command = [str(runtime.executable), *sandbox_flags, "--require", str(PRELOAD), str(path)]
    environment = {
        **scrubbed_environment(os.environ),
        TRACE_LIMIT_VARIABLE: str(limits.trace_events),
        HIDDEN_ARGS_VARIABLE: json.dumps(sandbox_flags),
    }
    if "child" in allow:
        # Node hands its permission flags on to the Node processes a snippet starts, through
        # NODE_OPTIONS, but not --disable-warning: without this, they print the SecurityWarning.
        given = environment.get("NODE_OPTIONS", "")
        environment["NODE_OPTIONS"] = f"{given} {QUIET_SECURITY_WARNING}".strip()
    return run_child(
        command,
        path=path,
        environment=environment,
        limits=limits,
        language="javascript",
        allow=allow,
        out_of_memory=_out_of_memory,
    )
