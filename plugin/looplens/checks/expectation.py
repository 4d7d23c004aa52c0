"""The check of a run against its expected output: does the Trace print what the author wrote?

The syntax of an expected output is read by looplens.fences.expected_output; here a run is
matched against it (queues and turns compared where the author stated them, `...` matching any
lines) and a mismatch is explained with a diff (or, when only turns are wrong, a sentence for each
line in the wrong turn) and the block to paste if the run is right.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from looplens.checks.turns import START, Anchor, align, fits, turn_errors
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

    #: A unified diff, expected against actual, queues shown where the author stated them; when
    #: the text and queues agree and only turns differ, a sentence per line in the wrong turn.
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
    """None when the run printed what the author expected (queues, turns compared where stated)."""
    actual = [line for line in trace.lines if line.stream in expectation.streams]
    if _matches(actual, expectation.lines):
        return None
    with_turns = any(line.turn is not None for line in expectation.lines)
    block = format_block(actual, turns=with_turns)
    alignment = align(actual, expectation.lines)
    if alignment is not None:
        # Text and queues agree: only turns are wrong, and a sentence each says which.
        return Mismatch("\n".join(turn_errors(actual, expectation, alignment)), block)
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
    return Mismatch(diff=diff, actual_block=block)


def format_block(lines: Sequence[PrintedLine], *, turns: bool = False) -> str:
    """The printed lines as an expectation block, queues (and turns) aligned in columns."""
    width = max((len(line.text) for line in lines), default=0)
    queue_width = max((len(line.queue) for line in lines), default=0)
    rows = []
    for line in lines:
        claims = [line.queue.ljust(queue_width), f"turn {line.turn}"] if turns else [line.queue]
        rows.append("  ".join([line.text.ljust(width), *claims]).rstrip())
    return "\n".join(rows)


def _matches(actual: Sequence[PrintedLine], expected: Sequence[ExpectedLine]) -> bool:
    # reachable[j]: the anchors with which the first i actual lines can match the first j
    # expected lines (an anchor: the thread and turn of the line that the last expected line
    # that is not `...` matched, which a relative turn compares with).
    reachable: list[set[Anchor]] = [{START}] + [set() for _ in expected]
    for position, wanted in enumerate(expected):
        if wanted.text == ELLIPSIS:
            reachable[position + 1] |= reachable[position]
    for real in actual:
        previous = reachable
        reachable = [set() for _ in range(len(expected) + 1)]
        for position, wanted in enumerate(expected):
            if wanted.text == ELLIPSIS:
                candidates = previous[position + 1] | previous[position]
                reachable[position + 1] = {
                    anchor for anchor in candidates if fits(wanted, real, anchor)
                } | reachable[position]
            elif real.text == wanted.text and any(
                fits(wanted, real, anchor) for anchor in previous[position]
            ):
                reachable[position + 1] = {(real.thread, real.turn)}
    return bool(reachable[-1])


def _queue_stated(expectation: Expectation, index: int) -> bool:
    # Show the real queue where the author stated one, so the diff only shows real differences;
    # past the end of the expectation, show it if the author stated queues at all.
    if index < len(expectation.lines):
        return expectation.lines[index].queue is not None
    return any(line.queue for line in expectation.lines)


def _format(text: str, queue: str | None) -> str:
    return f"{text}  [{queue}]" if queue else text
