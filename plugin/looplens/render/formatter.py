"""The SuperFences side: turn a traced fence into its rendered block, by looking its run up.

SuperFences calls a custom formatter synchronously, once per fence, with neither page nor line, and
swallows every exception except its own SuperFencesException, leaving a broken page and no log.
So all work happens before (the plugin traces and checks each page's snippets in
`on_page_markdown`), the formatter only looks results up, and the only error it raises is
`FenceError`, which SuperFences lets through and MkDocs reports.
"""

from __future__ import annotations

from typing import Any

from mkdocs.exceptions import PluginError
from pymdownx.superfences import SuperFencesException, highlight_validator

from looplens.cache import TraceCache
from looplens.checks.judged import TracedSnippet
from looplens.fences.scan import (
    EXPECT_CLASS,
    MEASURED_CLASS,
    NONDETERMINISTIC_CLASS,
    PREDICT_CLASS,
    TRACE_CLASS,
)
from looplens.render.block import render_traced
from looplens.render.cache_key import RenderKey
from looplens.render.highlighting import (
    CodeToHighlight,
    count_as_highlighted,
    highlight,
    highlight_as_written,
    highlight_identity,
    stash_size,
)
from looplens.render.links import PageLinks
from looplens.snippet import FENCE_LANGUAGES

#: Fence languages handed to this formatter; a fence without `.trace` renders as usual.
TRACED_FENCE_NAMES = (*FENCE_LANGUAGES, "text")

#: Classes that speak to looplens, not to the highlighter: kept off the code block.
_FENCE_ONLY_CLASSES = (TRACE_CLASS, MEASURED_CLASS, NONDETERMINISTIC_CLASS, PREDICT_CLASS)

_HIGHLIGHT_LANGUAGE = {"javascript": "js", "python": "python"}


class FenceError(SuperFencesException, PluginError):  # type: ignore[misc]
    """Raised from inside the formatter: SuperFences re-raises it, MkDocs reports it."""


class FenceRenderer:
    """Holds the runs of the page being converted; SuperFences calls `format` per fence."""

    def __init__(self) -> None:
        self._page = ""
        self._snippets: dict[str, TracedSnippet] = {}
        self._rendered: set[str] = set()
        self._links = PageLinks()
        self._cache: TraceCache | None = None

    def use_cache(self, cache: TraceCache | None) -> None:
        """Keep drawn blocks in `cache` and look them up there (None: draw every block)."""
        self._cache = cache

    def start_page(
        self, page: str, snippets: dict[str, TracedSnippet], links: PageLinks | None = None
    ) -> None:
        self._page = page
        self._snippets = snippets
        self._rendered = set()
        self._links = links or PageLinks()

    def anchor_ids(self) -> set[str]:
        """The ids of the snippets rendered on the page so far."""
        return set(self._rendered)

    def custom_fences(self) -> list[dict[str, Any]]:
        return [
            {"name": name, "class": "highlight", "validator": validate, "format": self.format}
            for name in TRACED_FENCE_NAMES
        ]

    def format(
        self,
        src: str,
        language: str,
        class_name: str,
        options: dict[str, Any],
        md: Any,
        **kwargs: Any,
    ) -> str:
        classes: list[str] = kwargs["classes"]
        if EXPECT_CLASS in classes:
            return ""  # the output table shows the checked output in its place
        if TRACE_CLASS not in classes:
            return highlight_as_written(md, src, language, options, **kwargs)
        traced = self._traced(kwargs["id_value"])
        self._rendered.add(traced.snippet.id)
        code = _code_to_highlight(traced, options, classes)
        if self._cache is None or traced.digest is None:
            return self._draw(traced, highlight(md, code))
        return self._cached_block(md, traced, code, self._cache, traced.digest)

    def _traced(self, snippet_id: str) -> TracedSnippet:
        traced = self._snippets.get(snippet_id)
        if traced is None:
            raise FenceError(
                f"{self._page}: traced fence '{snippet_id}' was not collected before "
                "rendering (is it inside a construct that looplens does not scan?)"
            )
        return traced

    def _cached_block(
        self, md: Any, traced: TracedSnippet, code: CodeToHighlight, cache: TraceCache, digest: str
    ) -> str:
        """The block kept in the cache, or drawn and kept; highlighted only when its highlighted
        code has no shorter name or is needed to draw it."""
        identity = highlight_identity(md, code)
        if identity is not None:
            block = cache.get_rendered(self._render_key(traced, digest, identity).digest())
            if block is not None:
                count_as_highlighted(md)
                return block
        stashed = stash_size(md)
        code_html = highlight(md, code)
        # Highlighting that stashed part of its output (a title in HTML mode) refers to this page's
        # stash by position: only the highlighted code itself, placeholders and all, can name it.
        untouched = stashed is not None and stash_size(md) == stashed
        name = identity if identity is not None and untouched else None
        key = self._render_key(traced, digest, name or code_html).digest()
        block = None if name else cache.get_rendered(key)
        if block is None:
            block = self._draw(traced, code_html)
            cache.put_rendered(key, block)
        return block

    def _render_key(self, traced: TracedSnippet, digest: str, code: str) -> RenderKey:
        share_url = self._links.share_url(traced.snippet.id)
        return RenderKey(digest, traced.snippet, code, self._links.glossary, share_url)

    def _draw(self, traced: TracedSnippet, code_html: str) -> str:
        return render_traced(
            traced,
            code_html,
            glossary_url=self._links.glossary,
            share_url=self._links.share_url(traced.snippet.id),
        )


def _code_to_highlight(
    traced: TracedSnippet, options: dict[str, Any], classes: list[str]
) -> CodeToHighlight:
    # Show the code that ran, even where SuperFences saw an include line it did not expand.
    return CodeToHighlight(
        source=traced.snippet.source.rstrip("\n"),
        language=_HIGHLIGHT_LANGUAGE[traced.snippet.language],
        title=traced.snippet.filename,
        options=tuple(sorted((str(name), str(value)) for name, value in options.items())),
        classes=tuple(name for name in classes if name not in _FENCE_ONLY_CLASSES),
    )


def validate(
    language: str, inputs: dict[str, str], options: dict[str, Any], attrs: dict[str, Any], md: Any
) -> bool:
    # Same rules as SuperFences' own fences, so untraced fences keep every highlight option.
    return bool(highlight_validator(language, inputs, options, attrs, md))
