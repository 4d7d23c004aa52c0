"""Where one page's blocks link to: worked out by the site stage, drawn by the renderers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PageLinks:
    #: The glossary page, or None when the site has none.
    glossary: str | None = None
    #: Snippet id → its share page, for the snippets that have one (and are not on it already).
    share: tuple[tuple[str, str], ...] = ()

    def share_url(self, snippet_id: str) -> str | None:
        return dict(self.share).get(snippet_id)
