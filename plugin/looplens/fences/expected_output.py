"""Expected output as authors write it: the body of an {.expect} fence, read into an Expectation.

An expectation line is the printed text, optionally followed by two or more spaces (or a tab) and
the queue it ran from:

    Start     sync
    Promise   microtask

The queue is only read when the last word is a queue name and at least two spaces separate it from
the text, so that ordinary printed text ending in a word such as "sync" stays text.

A line that is only `...` stands for any number of printed lines, even none (with a queue: any
number of lines from that queue). It keeps stack traces and runtime versions out of expectations.
"""

from __future__ import annotations

import re

from looplens.queues import QUEUES
from looplens.snippet import Expectation, ExpectedLine

_QUEUE_SUFFIX = re.compile(rf"^(?P<text>.*?)(?:\t+| {{2,}})(?P<queue>{'|'.join(QUEUES)})[ \t]*$")


def parse_expectation(
    body: str, *, fence_line: int, streams: tuple[str, ...] = ("stdout", "stderr")
) -> Expectation:
    lines = body.split("\n") if body else []
    return Expectation(tuple(_parse_line(line) for line in lines), fence_line, streams)


def _parse_line(line: str) -> ExpectedLine:
    match = _QUEUE_SUFFIX.match(line)
    if match is None:
        return ExpectedLine(line)
    return ExpectedLine(match["text"].rstrip(), match["queue"])
