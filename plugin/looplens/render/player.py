"""The step-through player's tab: the trace as compact JSON, and the code's highlighted lines.

The player (assets/looplens-player.js) derives every frame from the embedded events, so this module
only hands over what the Trace says, never a frame of its own. The code is highlighted here, one
entry per line, because the page's own code block has no per-line markup unless the site happens
to enable pymdownx.highlight's line spans.

Both travel in attributes, and the player draws its code from them: as markup, a second copy of
every snippet's code would double what Material's search parser reads of a page (the largest cost
a warm build adds to a plain one), for a view that works only with JavaScript anyway.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name

from looplens.queues import QUEUES
from looplens.render.html_text import attribute
from looplens.trace import MAIN_THREAD, Trace

_LEXER = {"javascript": "js", "python": "python"}
_EVENT_KIND = {"queued": "q", "run": "r", "print": "p"}


def player_data(trace: Trace) -> dict[str, Any]:
    """What the player needs, in short keys: pages carry one copy per snippet."""
    used = {callback.queue for callback in trace.callbacks}
    return {
        # Only the queues this run used, in a fixed order: an always-empty queue is noise.
        "queues": [queue for queue in QUEUES if queue in used and queue != "sync"],
        "callbacks": {
            str(callback.id): [
                callback.queue,
                callback.api,
                callback.line,
                # When it is due: a queue hands out its callbacks in that order (timers by delay).
                callback.t,
                callback.turn,
                # The thread only matters where it is not the main one.
                *([callback.thread] if callback.thread != MAIN_THREAD else []),
            ]
            for callback in trace.callbacks
        },
        # A printed line: its text, its stream, and the snippet's line that printed it (the one
        # the player shows running when it prints), where known.
        "lines": [
            [line.text, line.stream, *([line.at] if line.at is not None else [])]
            for line in trace.lines
        ],
        "events": [
            [
                _EVENT_KIND[event.kind],
                event.callback,
                event.t,
                *([event.line_index] if event.line_index is not None else []),
            ]
            for event in trace.events
        ],
    }


def _highlighted_lines(source: str, language: str, code_html: str) -> list[str]:
    # Pygments closes and reopens its spans at every newline, so each line is balanced HTML: the
    # lines of the block's own highlighted code can be reused, which halves the highlighting work
    # of a build. Where that code has another layout (line numbers in a table), highlight again.
    count = source.rstrip("\n").count("\n") + 1
    match = _CODE.search(code_html)
    # Lines with ids of their own (line spans, line anchors) would repeat those ids in the page.
    if match is not None and ' id="' not in match["lines"]:
        lines = match["lines"].removesuffix("\n").split("\n")
        if len(lines) == count:
            return lines
    lexer, formatter = _pygments(language)
    return highlight(source.rstrip("\n"), lexer, formatter).rstrip("\n").split("\n")


@functools.cache
def _pygments(language: str) -> tuple[Lexer, HtmlFormatter[str]]:
    # Made once: building a formatter and finding a lexer cost more than highlighting a snippet.
    # stripnl=False: a snippet's leading blank lines count, or the trace's line numbers would
    # point at the wrong lines.
    return get_lexer_by_name(_LEXER[language], stripnl=False), HtmlFormatter(nowrap=True)


_CODE = re.compile(r"<code>(?P<lines>.*?)</code></pre>", re.DOTALL)


def render_player(source: str, trace: Trace, code_html: str = "") -> str:
    """The player's tab; `code_html`, the block's highlighted code, is reused when it can be."""
    data = json.dumps(player_data(trace), ensure_ascii=False, separators=(",", ":"))
    lines = _highlighted_lines(source, trace.language, code_html)
    code = json.dumps(lines, ensure_ascii=False, separators=(",", ":"))
    # Attributes, not a <script type="application/json">: Material's instant navigation re-runs
    # every script of the new page as JavaScript (it copies the text but not the type).
    return (
        f'<div class="looplens-player" data-trace={attribute(data)} data-code={attribute(code)}>'
        '<p class="looplens-empty looplens-player-fallback">'
        "Stepping through the run needs JavaScript.</p>"
        "</div>"
    )
