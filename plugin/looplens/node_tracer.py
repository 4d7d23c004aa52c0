"""Trace a JavaScript or TypeScript file: run it on the bundled Node with the looplens preload.

The preload (tracers/node/preload.cjs) writes its records to a temporary file whose descriptor the
child inherits (pass_fds); it is read after Node exits, so no pipe can fill up and block the run.
Node's own stdout and stderr are captured as bytes: they are the truth of what was printed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from looplens.errors import TracerError
from looplens.node_records import TraceBuilder
from looplens.runtimes import node_binary, node_version
from looplens.trace import PrintedLine, Trace

PRELOAD = Path(__file__).parent / "tracers" / "node" / "preload.cjs"
TRACE_FD_VARIABLE = "LOOPLENS_TRACE_FD"


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
        stdout, stderr, exit_code = _run(path, fd, timeout_s)
        side_channel.seek(0)
        records = _parse(side_channel.read())
    if not records or records[0].get("k") != "thread":
        raise TracerError(f"the tracer did not start in Node (exit code {exit_code})")
    builder = TraceBuilder()
    for index, record in enumerate(records):
        builder.feed(index, record)
    trace = builder.finish({"stdout": stdout, "stderr": stderr}, exit_code, node_version())
    if display_path is None:
        return trace
    return _replace_folder(trace, (given_folder, path.parent), display_path)


def _run(path: Path, fd: int, timeout_s: float) -> tuple[bytes, bytes, int]:
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
    try:
        stdout, stderr = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise TracerError(f"{path.name} did not finish within {timeout_s:g} s") from None
    # A shell reports death by signal N as 128 + N; so does the trace.
    code = process.returncode
    return stdout, stderr, code if code >= 0 else 128 - code


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
