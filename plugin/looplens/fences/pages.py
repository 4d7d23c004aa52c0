"""The traced snippets of each page of a build, scanned once per page text."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from looplens.fences.collect import collect_snippets
from looplens.snippet import Snippet


class PageSnippets:
    """A page is scanned when the build starts (to trace everything early) and again when it is
    rendered, where another plugin may have changed it; unchanged, the first scan stands."""

    def __init__(self, include_roots: Sequence[Path]) -> None:
        self._roots = tuple(include_roots)
        self._scanned: dict[tuple[str, str], list[Snippet]] = {}

    def of(self, markdown: str, page_path: str) -> list[Snippet]:
        """The page's snippets; SnippetError names the page and line of a wrong fence."""
        key = (page_path, markdown)
        if key not in self._scanned:
            self._scanned[key] = collect_snippets(markdown, page_path, self._roots)
        return self._scanned[key]
