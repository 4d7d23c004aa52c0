"""A `.predict` question must have an answer: at least two different printed lines to order."""

from __future__ import annotations

from looplens.errors import SnippetError
from looplens.snippet import Snippet
from looplens.trace import Trace


def check_predictable(snippet: Snippet, trace: Trace) -> None:
    """A question needs at least two different lines to put in order; raises SnippetError."""
    if snippet.predict and len({line.text for line in trace.lines}) < 2:
        raise SnippetError(
            f"{snippet.where}: a .predict snippet must print at least two different lines "
            f"(this run printed {len(trace.lines)}): there is no order to guess"
        )
