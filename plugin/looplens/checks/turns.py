"""The turns an expectation states, against a run: does a line fit, and if not, why not.

The syntax is read by looplens.fences.expected_output. A relative turn (`same turn`, `next turn`,
`later turn`) compares a printed line with its anchor: the line that the nearest expected line
above it that is not `...` matched, or the main script's start (turn 0 on the main thread) above
the first one. Turns count per thread, so a line and its anchor on two threads never fit.
"""

from __future__ import annotations

from collections.abc import Sequence

from looplens.snippet import ELLIPSIS, Expectation, ExpectedLine
from looplens.trace import MAIN_THREAD, PrintedLine

#: The thread and turn of the line a relative turn compares with.
Anchor = tuple[str, int]
#: The anchor above the first line: the main script, in turn 0.
START: Anchor = (MAIN_THREAD, 0)


def fits(wanted: ExpectedLine, real: PrintedLine, anchor: Anchor) -> bool:
    """The printed line has the queue and the turn the expected line states (text aside)."""
    if wanted.queue not in (None, real.queue):
        return False
    return _turn_fits(wanted, real, anchor)


def _turn_fits(wanted: ExpectedLine, real: PrintedLine, anchor: Anchor) -> bool:
    thread, turn = anchor
    if wanted.turn is None:
        return True
    if isinstance(wanted.turn, int):
        return real.turn == wanted.turn
    if real.thread != thread:
        return False
    if wanted.turn == "same turn":
        return real.turn == turn
    if wanted.turn == "next turn":
        return real.turn == turn + 1
    return real.turn > turn


def align(
    actual: Sequence[PrintedLine], expected: Sequence[ExpectedLine]
) -> list[tuple[int, int]] | None:
    """One way the printed lines match the expected ones by text and queue, turns aside, as
    (expected index, actual index) pairs, one per printed line; None when there is none."""
    width = len(expected) + 1
    # ok[i][j]: the first i printed lines match the first j expected lines.
    ok = [[False] * width for _ in range(len(actual) + 1)]
    ok[0][0] = True
    for j, wanted in enumerate(expected):
        ok[0][j + 1] = ok[0][j] and wanted.text == ELLIPSIS
    for i, real in enumerate(actual):
        for j, wanted in enumerate(expected):
            queue_fits = wanted.queue in (None, real.queue)
            if wanted.text == ELLIPSIS:
                ok[i + 1][j + 1] = ((ok[i][j + 1] or ok[i][j]) and queue_fits) or ok[i + 1][j]
            else:
                ok[i + 1][j + 1] = ok[i][j] and queue_fits and real.text == wanted.text
    if not ok[-1][-1]:
        return None
    return _walk_back(ok, expected)


def _walk_back(ok: list[list[bool]], expected: Sequence[ExpectedLine]) -> list[tuple[int, int]]:
    pairs = []
    i, j = len(ok) - 1, len(expected)
    while i > 0:
        if expected[j - 1].text != ELLIPSIS:
            pairs.append((j - 1, i - 1))
            i, j = i - 1, j - 1
        elif ok[i][j - 1]:
            # The `...` may stand for no more lines: the ones left belong to the lines above.
            j -= 1
        else:
            pairs.append((j - 1, i - 1))
            i, j = i - 1, (j if ok[i - 1][j] else j - 1)
    return pairs[::-1]


def turn_errors(
    actual: Sequence[PrintedLine], expectation: Expectation, alignment: list[tuple[int, int]]
) -> list[str]:
    """A sentence for each printed line in another turn than the expectation says."""
    errors = []
    anchor, anchor_name = START, "the main script"
    for position, index in alignment:
        wanted, real = expectation.lines[position], actual[index]
        page_line = expectation.fence_line + 1 + position
        name = (
            f"line {page_line} {real.text!r}"
            if wanted.text != ELLIPSIS
            else f"{real.text!r} (one of the lines `...` at line {page_line} stands for)"
        )
        if not _turn_fits(wanted, real, anchor):
            errors.append(_sentence(name, wanted, real, anchor, anchor_name))
        if wanted.text != ELLIPSIS:
            anchor, anchor_name = (real.thread, real.turn), f"line {page_line}"
    return errors


def _sentence(
    name: str, wanted: ExpectedLine, real: PrintedLine, anchor: Anchor, anchor_name: str
) -> str:
    thread, turn = anchor
    if isinstance(wanted.turn, int):
        return f"{name} ran in turn {real.turn}, the expectation says turn {wanted.turn}"
    if real.thread != thread:
        return (
            f"{name} ran on thread {real.thread!r} and {anchor_name} on {thread!r}: turns count "
            f"per thread, so {wanted.turn!r} only compares lines of one thread"
        )
    said = _SAID[str(wanted.turn)]
    says = f"the expectation says {said} {anchor_name} (turn {turn})"
    return f"{name} ran in turn {real.turn}, {says}"


_SAID = {
    "same turn": "the same turn as",
    "next turn": "the turn after",
    "later turn": "a later turn than",
}
