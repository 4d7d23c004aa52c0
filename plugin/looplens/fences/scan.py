"""Find the fenced blocks of a Markdown page, with their lines, before Markdown itself runs.

SuperFences gives a fence formatter neither page nor line, so this scanner is what lets every
message name `page:line`, and what lets the build trace all snippets up front, in parallel.

The scanner follows SuperFences' rules where they matter here: a fence opens with three or more
backticks or tildes after any indentation or blockquote prefix, closes with the same character, at
least as many, behind the same prefix, and nothing inside a fence is another fence. The header is
a plain SuperFences header (`js {#micro-vs-macro .trace}`), so a page still renders as highlighted
code without the plugin.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from markdown.extensions.attr_list import get_attrs_and_remainder

TRACE_CLASS = "trace"
EXPECT_CLASS = "expect"
#: A traced fence whose output holds measured figures (wall-clock times): they vary per build.
MEASURED_CLASS = "measured"
PREDICT_CLASS = "predict"
#: A traced fence whose printed order can change from run to run; each {.expect} fence that
#: follows it declares one ordering it may print.
NONDETERMINISTIC_CLASS = "nondeterministic"

_OPENING = re.compile(r"^(?P<prefix>[ \t>]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_INFO = re.compile(r"^[ \t]*\.?(?P<lang>[\w#.+-]+)?[ \t]*(?:\{(?P<attrs>.*)\})?[ \t]*$")


@dataclass(frozen=True, slots=True)
class Fence:
    """One fenced block as written: header fields and body, prefix removed."""

    lang: str
    #: The `#id` of the header; "" when it has none.
    id: str
    classes: tuple[str, ...]
    #: `key=value` pairs in the order written (a bare key is its own value).
    options: tuple[tuple[str, str], ...]
    body: str
    #: 1-based line of the opening fence.
    line: int
    prefix: str
    #: 1-based line of the closing fence; None when the page ended before one.
    closing_line: int | None = None

    @property
    def closed(self) -> bool:
        return self.closing_line is not None

    def option(self, name: str) -> str | None:
        return dict(self.options).get(name)


def iter_fences(markdown: str) -> Iterator[Fence]:
    """Every fenced block of a page, in order; fences inside fences are body text."""
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        opening = _OPENING.match(lines[index])
        if opening is None or ("`" in opening["info"] and opening["fence"][0] == "`"):
            index += 1
            continue
        prefix, fence = opening["prefix"], opening["fence"]
        closing = re.compile(rf"^{re.escape(prefix)}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        end = index + 1
        while end < len(lines) and not closing.match(lines[end]):
            end += 1
        body = "\n".join(strip_prefix(line, prefix) for line in lines[index + 1 : end])
        closing_line = end + 1 if end < len(lines) else None
        yield _fence_from_header(opening["info"], body, index + 1, prefix, closing_line)
        index = end + 1


def traced_fence_ids(markdown: str) -> set[str]:
    """The ids of a page's traced fences, read without checking the fences (an unclosed fence is
    no code block, and has no id)."""
    return {
        fence.id
        for fence in iter_fences(markdown)
        if fence.id and fence.closed and TRACE_CLASS in fence.classes
    }


def _fence_from_header(
    info: str, body: str, line: int, prefix: str, closing_line: int | None
) -> Fence:
    header = _INFO.match(info)
    if header is None:
        return Fence("", "", (), (), body, line, prefix, closing_line)
    attrs, _ = get_attrs_and_remainder(header["attrs"] or "")
    fence_id, classes, options = "", [], []
    for key, value in attrs:
        if key == "id":
            fence_id = value or ""
        elif key == ".":
            classes.append(value or "")
        else:
            options.append((key, value if value is not None else key))
    lang = header["lang"] or ""
    if not lang and classes:
        lang = classes.pop(0)  # SuperFences reads `{.js #id}` as language js, as here
    return Fence(lang, fence_id, tuple(classes), tuple(options), body, line, prefix, closing_line)


def strip_prefix(line: str, prefix: str) -> str:
    # Lines inside an indented fence carry the fence's prefix; blank lines may carry less of it.
    if line.startswith(prefix):
        return line[len(prefix) :]
    return line.lstrip(" \t>") if not line.strip(" \t>") else line
