"""The data of a predict-the-output question (`.predict`): the real printed lines, the order the
reader first sees them in, and a one-line note on each queue they ran from.

The question itself is built in the browser (assets/looplens-predict.js) from this data, so a page
read without JavaScript still shows the whole run. The lines and queues come from the Trace alone;
the starting order is a shuffle seeded by the snippet's id, so every build writes the same page.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from looplens.queues import QUEUES_BY_NAME, glossary_anchor
from looplens.render.html_text import attribute
from looplens.render.table import scheduled_by
from looplens.snippet import Snippet
from looplens.trace import Trace

#: Seeds tried before the reversed answer is taken (a seed far enough is found in a few).
_SEEDS = 64


def starting_order(snippet_id: str, texts: list[str]) -> list[int]:
    """Indices of the lines in the order the question shows them: a shuffle seeded by the id,
    at least half as far from the real output as a question can be (in moves of one line by one
    place, the question's only move), so that no question starts one move from its answer."""
    indices = list(range(len(texts)))
    farthest = moves_to_answer(texts, indices[::-1])
    wanted = max(1, -(-farthest // 2))
    for seed in range(_SEEDS):
        order = sorted(
            indices,
            key=lambda index: hashlib.sha256(f"{snippet_id}\0{seed}\0{index}".encode()).hexdigest(),
        )
        if moves_to_answer(texts, order) >= wanted:
            return order
    return indices[::-1]


def moves_to_answer(texts: list[str], order: list[int]) -> int:
    """How many moves of one line by one place turn `order` into the real output: the
    inversions of the shown lines against it, a repeated line counted as its nearest twin (the
    k-th "a" shown answers for the k-th "a" printed)."""
    seen: dict[str, int] = {}
    places: dict[tuple[str, int], int] = {}
    for place, line in enumerate(texts):
        places[line, seen.get(line, 0)] = place
        seen[line] = seen.get(line, 0) + 1
    shown: dict[str, int] = {}
    targets = []
    for index in order:
        line = texts[index]
        targets.append(places[line, shown.get(line, 0)])
        shown[line] = shown.get(line, 0) + 1
    return sum(
        1
        for left in range(len(targets))
        for right in range(left + 1, len(targets))
        if targets[left] > targets[right]
    )


def predict_data(snippet: Snippet, trace: Trace, glossary_url: str | None) -> dict[str, Any]:
    """What the question needs: lines in real order, the starting order, and each queue's note."""
    texts = [line.text for line in trace.lines]
    used = list(dict.fromkeys(line.queue for line in trace.lines))
    return {
        "lines": [
            [line.text, line.stream, line.queue, scheduled_by(line, trace)] for line in trace.lines
        ],
        "order": starting_order(snippet.id, texts),
        "queues": {
            queue: [
                _note(queue),
                f"{glossary_url}#{glossary_anchor(queue)}" if glossary_url else "",
            ]
            for queue in used
        },
    }


def predict_attribute(snippet: Snippet, trace: Trace, glossary_url: str | None) -> str:
    """The question's data as an attribute of the block (not a script: see render_player)."""
    data = json.dumps(
        predict_data(snippet, trace, glossary_url), ensure_ascii=False, separators=(",", ":")
    )
    return f" data-looplens-predict={attribute(data)}"


def _note(queue: str) -> str:
    """The line shown next to every revealed line of the queue; the glossary's queue table says
    the same at more length."""
    known = QUEUES_BY_NAME.get(queue)
    return known.note if known is not None else ""
