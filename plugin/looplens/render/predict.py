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


def starting_order(snippet_id: str, texts: list[str]) -> list[int]:
    """Indices of the lines in the order the question shows them: a shuffle seeded by the id,
    never one that already reads as the real output."""
    order = sorted(
        range(len(texts)),
        key=lambda index: hashlib.sha256(f"{snippet_id}\0{index}".encode()).hexdigest(),
    )
    if [texts[index] for index in order] == texts:
        # Turning a sequence by one place leaves it unchanged only when all its items are equal,
        # which check_predictable rules out.
        order = order[1:] + order[:1]
    return order


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
