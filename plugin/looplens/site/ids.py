"""Snippet ids are permalinks (`page/#id`, `explain/id/`), so one id names one snippet site-wide.

A share page repeats the fence of the snippet it explains, id included: that one repeat is the
point of it, not a clash.
"""

from __future__ import annotations

from collections.abc import Iterable

from looplens.errors import SnippetError
from looplens.snippet import Snippet


def reject_clashing_ids(pages: Iterable[tuple[list[Snippet], str | None]]) -> None:
    """Each item: a page's snippets, and the id that page is the share page of (or None)."""
    first: dict[str, Snippet] = {}
    for snippets, shared_id in pages:
        for snippet in snippets:
            if snippet.id == shared_id:
                continue
            earlier = first.setdefault(snippet.id, snippet)
            if earlier is not snippet:
                raise SnippetError(
                    f"{snippet.where}: the id is already used at {earlier.page}:{earlier.line}; "
                    "ids are permalinks and must be unique across the site"
                )


def ids_also_headings(page: str, snippet_ids: set[str], headings: set[str]) -> list[str]:
    """A warning for each snippet id that a heading of the same page also takes: a link to
    `page#id` can reach only one of them."""
    return [
        f"{page}: snippet id '{snippet_id}' is also the id of a heading on the page: "
        "rename one, a link cannot reach both"
        for snippet_id in sorted(snippet_ids & headings)
    ]
