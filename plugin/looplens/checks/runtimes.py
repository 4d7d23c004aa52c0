"""Whether a snippet prints the same on every runtime it runs on, and where not, which lines.

A reader on Node 20 must see what Node 20 prints: a run that differs from the primary runtime's
(its text, stream or queue, or its exit code) is a difference the page must declare, with an
expected output for that runtime (`{.expect for="node@20"}`), or it fails the build. The
runtime's own stack frames are left out of the comparison: every release numbers its internal
lines differently (`node:internal/...:1554:14`, asyncio's runners.py), and a page is not about
them; the page still shows each runtime's real lines.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from looplens.runtimes.runtime import Runtime
from looplens.snippet import Snippet
from looplens.trace import PrintedLine, Trace

#: A frame of Node's own code, the place in Node's code that threw (`node:events:497`) and the
#: version line that Node prints under an uncaught error, and the marker that Node 20 and 22
#: print where they cut a rethrown error's stack short.
_NODE_INTERNAL = re.compile(
    r"^\s+at (?:.*\()?node:[^)]*\)?$"
    r"|^node:[a-z_/]+:\d+$"
    r"|^Node\.js v\d+\.\d+\.\d+$"
    r"|^\s+\[\.\.\. lines matching original stack trace \.\.\.\]$"
)
#: A traceback's frame line, and a line of carets or tildes that underlines code (3.11 draws
#: them for fewer frames than 3.13 does).
_PYTHON_FRAME = re.compile(r'^\s+File "(?P<path>[^"]+)", line \d+')
_UNDERLINE = re.compile(r"^\s*[~^]+[~^\s]*$")

Comparable = tuple[str, str, str]


def _comparable_lines(trace: Trace, runtime: Runtime) -> list[tuple[int, Comparable]]:
    """Each line that a page compares between runtimes, with its index in the trace."""
    kept: list[tuple[int, Comparable]] = []
    in_runtime_frame = False
    for index, line in enumerate(trace.lines):
        if _is_runtime_line(line, runtime, in_runtime_frame):
            in_runtime_frame = in_runtime_frame or _starts_runtime_frame(line, runtime)
            continue
        in_runtime_frame = False
        kept.append((index, (line.stream, line.text, line.queue)))
    return kept


def _starts_runtime_frame(line: PrintedLine, runtime: Runtime) -> bool:
    frame = _PYTHON_FRAME.match(line.text)
    return frame is not None and frame["path"].startswith(runtime.folders or ("\0",))


def _is_runtime_line(line: PrintedLine, runtime: Runtime, in_runtime_frame: bool) -> bool:
    if runtime.language == "javascript":
        return _NODE_INTERNAL.match(line.text) is not None
    if _UNDERLINE.match(line.text):
        return True
    if _PYTHON_FRAME.match(line.text):
        return _starts_runtime_frame(line, runtime)
    # The source line a traceback quotes under a frame of the runtime's own files.
    return in_runtime_frame and line.text.startswith("    ")


@dataclass(frozen=True, slots=True)
class RuntimeDifference:
    """How one runtime's run differs from the primary runtime's."""

    #: Indexes (in its trace's lines) of the lines the primary's run does not have.
    lines: tuple[int, ...]
    #: A few lines of unified diff, primary against this runtime, for messages.
    diff: str
    exit_code_differs: bool


def difference(
    primary: tuple[Runtime, Trace], other: tuple[Runtime, Trace]
) -> RuntimeDifference | None:
    """None when `other` prints what `primary` does, stack frames of the runtimes aside."""
    ours = _comparable_lines(primary[1], primary[0])
    theirs = _comparable_lines(other[1], other[0])
    exit_differs = primary[1].exit_code != other[1].exit_code
    left = [line for _, line in ours]
    right = [line for _, line in theirs]
    if left == right and not exit_differs:
        return None
    matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    changed = tuple(
        theirs[index][0]
        for tag, _, _, start, end in matcher.get_opcodes()
        if tag != "equal"
        for index in range(start, end)
    )
    diff = "\n".join(
        list(
            difflib.unified_diff(
                [_shown(line) for line in left],
                [_shown(line) for line in right],
                primary[0].name.title,
                other[0].name.title,
                n=1,
                lineterm="",
            )
        )[:14]
    )
    if exit_differs:
        diff += f"\nexit code {primary[1].exit_code} on {primary[0].name.title}, " + (
            f"{other[1].exit_code} on {other[0].name.title}"
        )
    return RuntimeDifference(changed, diff.strip("\n"), exit_differs)


def _shown(line: Comparable) -> str:
    stream, text, queue = line
    return f"{text}  {queue}" + ("  (stderr)" if stream == "stderr" else "")


def undeclared(primary: Runtime, other: Runtime, found: RuntimeDifference) -> str:
    """The reason a difference fails the build: the page shows one expected output for both."""
    return (
        f"it prints differently on {other.name.title} than on {primary.name.title}, and the page "
        f"expects the same of both:\n{found.diff}\nA reader on {other.name.title} sees that: "
        f'declare it with an expected output for it, {{.expect for="{other.name}"}}, right '
        f"after the others, or run the snippet only where the page holds, "
        f'runtimes="{primary.name}" on the fence'
    )


def declared(snippet: Snippet, primary: Runtime, other: Runtime) -> bool:
    """Whether the page expects something else of `other` than of `primary`."""
    return (
        snippet.on_runtime(other.name).declared_orderings
        != snippet.on_runtime(primary.name).declared_orderings
    )


def compared(snippet: Snippet) -> bool:
    """Whether a snippet's runs are compared between runtimes at all: a measured snippet prints
    other figures each run, and a nondeterministic one shows how often each runtime printed
    each declared ordering instead."""
    return not (snippet.measured or snippet.nondeterministic)


def differences(
    snippet: Snippet, runs: Sequence[tuple[Runtime, Trace]]
) -> tuple[RuntimeDifference | None, ...]:
    """For each run (the primary's first, always None), how it differs from the primary's."""
    if not runs:
        return ()
    if not compared(snippet):
        return tuple(None for _ in runs)
    return (None, *(difference(runs[0], run) for run in runs[1:]))
