"""Share pages: one standalone page per traced snippet, at `explain/<id>/`, for a link that
previews well when pasted and lands on one explanation.

Each page repeats the article's fence as written, so the plugin traces it like any fence and finds
the same digest in the cache; it takes its title from the nearest heading above the fence, its
text from the paragraph right before it, and links back to `article#id`. The pages are Markdown,
written by the site's mkdocs-gen-files script (tools/gen_share_pages.py) through
`write_share_pages`; this module only decides their text, from the articles' Markdown, so two
builds write the same bytes.
"""

from __future__ import annotations

import html
import json
import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.utils.meta import get_data

from looplens.fences.collect import expectations_following
from looplens.fences.scan import TRACE_CLASS, Fence, iter_fences
from looplens.site.links import SHARE_FOLDER, SHARE_META_KEY, share_page_path

#: Past this many characters a description is cut at a word and ends with "…".
DESCRIPTION_LIMIT = 200

_HEADING = re.compile(r"^(?P<level>#{1,6})[ \t]+(?P<text>.*?)[ \t]*#*[ \t]*$")
_HEADING_ATTRS = re.compile(r"[ \t]*\{[^}]*\}[ \t]*$")
#: The opening lines of a content tab or an admonition: a fence inside one follows its marker.
_CONTAINER = re.compile(r"^[ \t>]*(===|!!!|\?\?\?)")
_MARKDOWN_LINK = re.compile(r"(?<!!)\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)(?P<title>[^)]*)\)")


@dataclass(frozen=True, slots=True)
class SharePage:
    snippet_id: str
    #: Where the page is written, relative to docs/: `explain/<id>.md`.
    path: str
    #: The article it comes from, relative to docs/.
    article: str
    title: str
    description: str
    markdown: str


def share_pages(pages: Iterable[tuple[str, str]]) -> list[SharePage]:
    """The share pages of a site, from its (src_uri, Markdown) pages, in a fixed order."""
    found: list[SharePage] = []
    for src_uri, markdown in sorted(pages):
        _, meta = get_data(markdown)
        if SHARE_META_KEY in meta or src_uri.startswith(SHARE_FOLDER + "/"):
            continue
        found.extend(_pages_of_article(src_uri, markdown))
    return found


def tracing_is_on(config: MkDocsConfig) -> bool:
    """Whether the site traces its snippets: a share page says its output was printed by a real
    run, which is true only then."""
    plugin = config.plugins.get("looplens")
    return plugin is not None and bool(plugin.config.enabled)


def write_share_pages(
    pages: Iterable[tuple[str, str]],
    open_file: Callable[[str, str], IO[str]],
    set_edit_path: Callable[[str, str], None],
) -> list[SharePage]:
    """Write every share page through mkdocs-gen-files' `open` and point its edit link at the
    article (the page itself is generated; the article is what to edit)."""
    written = share_pages(pages)
    for page in written:
        with open_file(page.path, "w") as out:
            out.write(page.markdown)
        set_edit_path(page.path, page.article)
    return written


def _fenced_lines(fences: list[Fence], line_count: int) -> set[int]:
    """The lines (1-based) of every fenced block: heading marks and paragraphs inside one are
    code, not the page's text."""
    return {
        number
        for fence in fences
        for number in range(fence.line, (fence.closing_line or line_count) + 1)
    }


def article_description(markdown: str) -> str:
    """An article's own description for its link previews and search engines: its introduction
    (the first paragraph under its title), as plain words, trimmed; "" for none."""
    lines = markdown.splitlines()
    in_fence = _fenced_lines(list(iter_fences(markdown)), len(lines))
    title_line = next(
        (
            number
            for number, line in enumerate(lines, start=1)
            if number not in in_fence
            and (match := _HEADING.match(line))
            and len(match["level"]) == 1
        ),
        None,
    )
    return _trimmed(_plain(" ".join(_introduction(lines, title_line, in_fence))))


def _pages_of_article(src_uri: str, markdown: str) -> list[SharePage]:
    lines = markdown.splitlines()
    fences = list(iter_fences(markdown))
    in_fence = _fenced_lines(fences, len(lines))
    headings = [
        (number, len(match["level"]), _HEADING_ATTRS.sub("", match["text"]))
        for number, line in enumerate(lines, start=1)
        if number not in in_fence and (match := _HEADING.match(line))
    ]
    _, meta = get_data(markdown)
    title_line = next((number for number, level, _ in headings if level == 1), None)
    article_title = str(meta.get("title") or "") or next(
        (_plain(text) for _, level, text in headings if level == 1), src_uri
    )
    # Where no paragraph leads to the fence, the article's introduction describes it best.
    introduction = _plain(" ".join(_introduction(lines, title_line, in_fence)))
    result = []
    for position, fence in enumerate(fences):
        if TRACE_CLASS not in fence.classes or not fence.id or not fence.closed:
            continue  # the plugin reports such a fence with its page and line
        above = [text for number, _, text in headings if number < fence.line]
        heading = above[-1] if above else article_title
        paragraph = _paragraph_before(lines, fence.line, in_fence)
        expects = expectations_following(fences, position, lines)
        result.append(
            _share_page(
                src_uri, article_title, introduction, heading, paragraph, [fence, *expects], lines
            )
        )
    return result


def _share_page(
    article: str,
    article_title: str,
    introduction: str,
    heading: str,
    paragraph: list[str],
    fences: list[Fence],
    lines: list[str],
) -> SharePage:
    # The traced fence and its {.expect} fences as written: the same snippet, the same checks.
    fence = fences[0]
    path = share_page_path(fence.id)
    # The section alone can be as bare as "The fence": a shared link names its article too.
    section = _plain(heading)
    title = section if section == article_title else f"{section} — {article_title}"
    text = " ".join(paragraph)
    description = _trimmed(_plain(text) or introduction) or (
        f"A snippet from “{article_title}”, run when the site was built: "
        "its real output, line by line, with the queue each line ran from."
    )
    back = posixpath.relpath(article, SHARE_FOLDER)
    written = [
        "\n".join(
            (
                lines[each.line - 1][len(each.prefix) :],
                each.body,
                lines[(each.closing_line or 0) - 1][len(each.prefix) :],
            )
        )
        for each in fences
    ]
    meta = "\n".join(
        [
            "---",
            f"title: {json.dumps(title, ensure_ascii=False)}",
            f"description: {json.dumps(description, ensure_ascii=False)}",
            f"{SHARE_META_KEY}: {json.dumps(fence.id)}",
            "search:",
            "  exclude: true",
            "---",
        ]
    )
    body = [
        meta,
        "",
        f"# {_relinked(heading, article)}",
        "",
        *([_relinked(text, article), ""] if text else []),
        "\n\n".join(written),
        "",
        "Every line of this output was printed by a real run when the site was built.",
        f"Read it in context: [{_escaped(article_title)}]({back}#{fence.id}).",
        "",
    ]
    return SharePage(fence.id, path, article, title, description, "\n".join(body))


def _paragraph_before(lines: list[str], fence_line: int, in_fence: set[int]) -> list[str]:
    """The lines of the paragraph that ends right above the fence (or above the tab or
    admonition it sits in); [] when a heading, a table or another fence is there instead."""
    index = fence_line - 2
    while index >= 0 and (not lines[index].strip(" \t>") or _CONTAINER.match(lines[index])):
        index -= 1
    end = index
    while index >= 0 and _is_text(lines, index, in_fence):
        index -= 1
    return [line.strip().lstrip("> \t") for line in lines[index + 1 : end + 1]]


def _introduction(lines: list[str], title_line: int | None, in_fence: set[int]) -> list[str]:
    """The paragraph right under the article's title (1-based line), if it has one."""
    if title_line is None:
        return []
    index = title_line
    while index < len(lines) and not lines[index].strip():
        index += 1
    start = index
    while index < len(lines) and _is_text(lines, index, in_fence):
        index += 1
    return [line.strip() for line in lines[start:index]]


def _is_text(lines: list[str], index: int, in_fence: set[int]) -> bool:
    """Whether a line (0-based) belongs to a paragraph: no blank, heading, tab or admonition
    marker, table row or fenced line."""
    line = lines[index]
    return not (
        (index + 1) in in_fence
        or not line.strip(" \t>")
        or _HEADING.match(line.lstrip(" \t>"))
        or _CONTAINER.match(line)
        or line.lstrip(" \t>").startswith("|")
    )


def _plain(markdown: str) -> str:
    """Inline Markdown as the words a reader sees: no link targets, code marks, emphasis or
    tags."""
    text = _MARKDOWN_LINK.sub(lambda match: match["text"], markdown)
    text = re.sub(r"<[^>]+>", "", text)
    text = re.sub(r"(\*\*|__|\*|`)", "", text)
    text = re.sub(r"(?<!\w)_(?=\S)|(?<=\S)_(?!\w)", "", text)
    text = html.unescape(" ".join(text.split()))
    # Typographic quotes: Material writes the description into an attribute without escaping it,
    # where a straight double quote would end the attribute.
    return re.sub(r'"([^"]*)"', r"“\1”", text).replace('"', "”")


def _trimmed(text: str) -> str:
    if len(text) <= DESCRIPTION_LIMIT:
        return text
    cut = text[: DESCRIPTION_LIMIT - 1]
    return cut[: cut.rfind(" ")].rstrip(" ,;:") + "…" if " " in cut else cut + "…"


def _escaped(text: str) -> str:
    return re.sub(r"([\\`*_\[\]])", r"\\\1", text)


def _relinked(markdown: str, article: str) -> str:
    """The paragraph with its relative links made to work from the share page."""

    def relink(match: re.Match[str]) -> str:
        target = match["target"]
        if re.match(r"^[a-z][a-z0-9+.-]*:|^/", target):
            return match[0]
        path, _, anchor = target.partition("#")
        resolved = (
            posixpath.normpath(posixpath.join(posixpath.dirname(article), path))
            if path
            else article
        )
        new_target = posixpath.relpath(resolved, SHARE_FOLDER) + (f"#{anchor}" if anchor else "")
        return f"[{match['text']}]({new_target}{match['title']})"

    return _MARKDOWN_LINK.sub(relink, markdown)
