"""The check of a run against its expected output: does the Trace print what the author wrote?

The syntax of an expected output is read by looplens.fences.expected_output; here a run is
matched against it (queues compared where the author stated them, `...` matching any lines) and
a mismatch is explained with a diff and the block to paste if the run is right.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from looplens.snippet import ELLIPSIS, Expectation, ExpectedLine, Snippet
from looplens.trace import PrintedLine, Trace


@dataclass(frozen=True, slots=True)
class Verdict:
    """Everything wrong with one run of a snippet: its output, its exit code."""

    reasons: tuple[str, ...]
    output: Mismatch | None

    def message(self) -> str:
        """The reasons, the diff and the block to paste, as one message."""
        parts = ["; ".join(self.reasons)]
        if self.output is not None:
            parts += [self.output.diff, "If the real output is right, the expectation reads:"]
            parts.append(self.output.actual_block)
        return "\n".join(parts)


@dataclass(frozen=True, slots=True)
class Mismatch:
    """What differs between the expectation and the run, ready to print."""

    #: A unified diff, expected against actual, queues shown where the author stated them.
    diff: str
    #: The real output written as an expectation block, for the author to paste if it is right.
    actual_block: str


def verify(snippet: Snippet, trace: Trace) -> Verdict | None:
    """None when the run is what the author said: the expected output, the expected exit code.

    A snippet that exits with an error without saying so (`exit=1` on the fence) is a problem
    even with no expected output: a page must never show a broken snippet silently.
    """
    reasons = []
    declared = snippet.declared_orderings
    mismatches = [check(trace, expectation) for expectation in declared]
    # Any declared ordering will do (a nondeterministic snippet declares several); the diff is
    # against the first.
    output = mismatches[0] if mismatches and None not in mismatches else None
    if output is not None and len(declared) == 1:
        reasons.append(
            "the real output differs from the expected output "
            f"(fence at line {declared[0].fence_line})"
        )
    elif output is not None:
        lines = ", ".join(str(expectation.fence_line) for expectation in declared)
        reasons.append(
            f"the real output is none of the {len(declared)} declared orderings "
            f"(fences at lines {lines})"
        )
    if trace.exit_code != snippet.exit_code:
        reasons.append(
            f"the snippet exited with code {trace.exit_code}, not {snippet.exit_code} "
            f"(if that is the point, add exit={trace.exit_code} to the fence)"
        )
    return Verdict(tuple(reasons), output) if reasons else None


def check(trace: Trace, expectation: Expectation) -> Mismatch | None:
    """None when the run printed what the author expected (queues compared where stated)."""
    actual = [line for line in trace.lines if line.stream in expectation.streams]
    if _matches(actual, expectation.lines):
        return None
    expected_text = [_format(line.text, line.queue) for line in expectation.lines]
    actual_text = [
        _format(line.text, line.queue if _queue_stated(expectation, index) else None)
        for index, line in enumerate(actual)
    ]
    # Loaded on the first mismatch: a build whose pages are all true never needs it.
    import difflib

    diff = "\n".join(
        difflib.unified_diff(expected_text, actual_text, "expected", "actual", lineterm="", n=3)
    )
    return Mismatch(diff=diff, actual_block=format_block(actual))


def format_block(lines: Sequence[PrintedLine]) -> str:
    """The printed lines as an expectation block, queues aligned in one column."""
    width = max((len(line.text) for line in lines), default=0)
    return "\n".join(f"{line.text.ljust(width)}  {line.queue}".rstrip() for line in lines)


def _matches(actual: Sequence[PrintedLine], expected: Sequence[ExpectedLine]) -> bool:
    # reachable[j]: the first i actual lines can match the first j expected lines.
    reachable = [True] + [False] * len(expected)
    for position, wanted in enumerate(expected):
        if wanted.text == ELLIPSIS:
            reachable[position + 1] = reachable[position]
    for real in actual:
        previous = reachable
        reachable = [False] * (len(expected) + 1)
        for position, wanted in enumerate(expected):
            queue_fits = wanted.queue in (None, real.queue)
            if wanted.text == ELLIPSIS:
                reachable[position + 1] = (
                    (previous[position + 1] or previous[position]) and queue_fits
                ) or reachable[position]
            else:
                reachable[position + 1] = (
                    previous[position] and queue_fits and real.text == wanted.text
                )
    return reachable[-1]


def _queue_stated(expectation: Expectation, index: int) -> bool:
    # Show the real queue where the author stated one, so the diff only shows real differences;
    # past the end of the expectation, show it if the author stated queues at all.
    if index < len(expectation.lines):
        return expectation.lines[index].queue is not None
    return any(line.queue for line in expectation.lines)


def _format(text: str, queue: str | None) -> str:
    return f"{text}  [{queue}]" if queue else text
