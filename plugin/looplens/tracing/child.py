"""Run a tracer's child process: its side channel, its sandbox and limits, what it left.

Both languages' tracers run inside the snippet's process and write one JSON record per line to a
temporary file whose descriptor the child inherits (pass_fds). The file is read after the child
exits, so no pipe can fill up and block the run. The child's own stdout and stderr are captured as
bytes: they are the truth of what was printed. What differs by language (the command, its
environment, how the runtime says its memory ran out) the caller gives.

The *_VARIABLE names are what the host tells the in-runtime tracers (under tracers/). Those run in
another process, one in another language, and cannot import this module: each keeps its own copy
of the names it reads, and tests/test_child.py checks those copies against these.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from looplens.errors import TracerError
from looplens.limits import LimitError, LimitOverrides, Limits
from looplens.sandbox.process import Arrivals, run_sandboxed
from looplens.snippet import Language
from looplens.trace import Stream

#: The descriptor of the side channel the records go to.
TRACE_FD_VARIABLE = "LOOPLENS_TRACE_FD"
#: How much the tracer follows before its records stop (Node: async resources, Python: contexts).
TRACE_LIMIT_VARIABLE = "LOOPLENS_TRACE_LIMIT"
#: Node: the sandbox's own Node flags (JSON list), hidden from process.execArgv as in a plain run.
HIDDEN_ARGS_VARIABLE = "LOOPLENS_HIDDEN_ARGS"
#: Python: "0" lets asyncio's timers wait in real time.
VIRTUAL_TIME_VARIABLE = "LOOPLENS_VIRTUAL_TIME"
#: Python: the file rules (sandbox.python_files.FileRules) as JSON.
SANDBOX_VARIABLE = "LOOPLENS_SANDBOX"


@dataclass(frozen=True, slots=True)
class FinishedChild:
    """What a tracer's child left once it exited."""

    stdout: bytes
    stderr: bytes
    #: As a shell reports it: death by signal N is 128 + N.
    exit_code: int
    #: The side channel's records, in the order they were written.
    records: tuple[Mapping[str, Any], ...]
    #: When each chunk of each stream was read.
    arrivals: Mapping[Stream, Arrivals]

    def output(self) -> dict[Stream, bytes]:
        """The printed bytes of both streams."""
        return {"stdout": self.stdout, "stderr": self.stderr}

    def started_as(self, kind: str) -> bool:
        """Whether the tracer started: its first record, of `kind`, is written before the
        snippet runs a line, so a child without it never ran under the tracer."""
        return bool(self.records) and self.records[0].get("k") == kind


def snippet_file(path: Path) -> Path:
    """The file a tracer runs for `path`, resolved; TracerError if there is none."""
    path = path.resolve()
    if not path.is_file():
        raise TracerError(f"no such file: {path}")
    return path


def run_limits(limits: Limits | None, timeout_s: float | None) -> Limits:
    """What a tracer's run may use: `limits` (else the defaults), with `timeout_s` as its time
    limit if given."""
    return LimitOverrides(timeout_s=timeout_s).over(limits or Limits())


def run_child(
    command: Sequence[str],
    *,
    path: Path,
    environment: Mapping[str, str],
    limits: Limits,
    language: Language,
    allow: Iterable[str],
    out_of_memory: Callable[[bytes], bool],
) -> FinishedChild:
    """Run `command` for the snippet at `path`, from its folder, sandboxed and limited.

    The environment gets TRACE_FD_VARIABLE, naming the side channel. `out_of_memory` tells from
    the stderr of a child that failed whether its memory ran out: that raises LimitError, as the
    other limits' breaches do (see sandbox.process).
    """
    allow = tuple(allow)
    with tempfile.TemporaryFile(prefix="looplens-trace-") as side_channel:
        fd = side_channel.fileno()
        finished = run_sandboxed(
            list(command),
            cwd=path.parent,
            env={**environment, TRACE_FD_VARIABLE: str(fd)},
            pass_fds=(fd,),
            limits=limits,
            language=language,
            allow=allow,
            name=path.name,
        )
        stdout, stderr = finished.stdout.data(), finished.stderr.data()
        if finished.exit_code != 0 and out_of_memory(stderr):
            what = path.name + " ran out of memory, over {limit}"
            raise LimitError.of("memory_bytes", limits, what)
        side_channel.seek(0)
        records = parse_records(side_channel.read())
    arrivals: dict[Stream, Arrivals] = {
        "stdout": finished.stdout.arrivals,
        "stderr": finished.stderr.arrivals,
    }
    return FinishedChild(stdout, stderr, finished.exit_code, tuple(records), arrivals)


def parse_records(data: bytes) -> list[dict[str, Any]]:
    """One JSON record per line, as the in-runtime tracers write them."""
    records = []
    for line in data.splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            # Only a record cut short by a dying process can be malformed: ignore it.
            continue
    return records
