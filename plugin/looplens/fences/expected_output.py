"""Expected output as authors write it: the body of an {.expect} fence, read into an Expectation.

An expectation line is the printed text, optionally followed by two or more spaces (or a tab) and
the queue it ran from, and then, again after two or more spaces, the loop turn it ran in:

    Start       sync       turn 0
    Promise     microtask  same turn
    Timeout     timers     later turn
    Immediate   check      same turn
    Again       next turn

A turn is `turn N` (the absolute turn, counted per thread: 0 is the main script and the
microtasks it leaves), or relative to the line before: `same turn`, `next turn` (exactly one
more) or `later turn` (any later one). "The line before" is the nearest line above that is not
`...`; above the first one it is the main script, in turn 0 on the main thread. A relative turn
compares lines of one thread only.

A queue or a turn is only read when its words are exactly a queue name or one of those forms
and at least two spaces separate them from what comes before, so that ordinary printed text
ending in a word such as "sync" or "next turn" stays text.

A line that is only `...` stands for any number of printed lines, even none; with a queue or a
turn, any number of lines of that queue or turn (a relative turn then compares each of them
with the line before the `...`). It keeps stack traces and runtime versions out of expectations.
"""

from __future__ import annotations

import re

from looplens.queues import QUEUES
from looplens.snippet import RELATIVE_TURNS, Expectation, ExpectedLine, RelativeTurn

_GAP = r"(?:\t+| {2,})"
_CLAIMS = re.compile(
    rf"^(?P<text>.*?)"
    rf"(?:{_GAP}(?P<queue>{'|'.join(QUEUES)}))?"
    rf"(?:{_GAP}(?P<turn>turn (?P<number>\d+)|{'|'.join(RELATIVE_TURNS)}))?"
    r"[ \t]*$"
)


def parse_expectation(
    body: str, *, fence_line: int, streams: tuple[str, ...] = ("stdout", "stderr")
) -> Expectation:
    lines = body.split("\n") if body else []
    return Expectation(tuple(_parse_line(line) for line in lines), fence_line, streams)


def _parse_line(line: str) -> ExpectedLine:
    match = _CLAIMS.match(line)
    if match is None or (match["queue"] is None and match["turn"] is None):
        return ExpectedLine(line)
    turn: int | RelativeTurn | None = None
    if match["number"] is not None:
        turn = int(match["number"])
    elif match["turn"] is not None:
        turn = next(words for words in RELATIVE_TURNS if words == match["turn"])
    return ExpectedLine(match["text"].rstrip(), match["queue"], turn)
