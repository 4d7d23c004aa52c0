"""Find traced fences in Markdown, with their page and line, before Markdown itself runs.

SuperFences gives a fence formatter neither page nor line, so this scanner is what lets every
message name `page:line`, and what lets the build trace all snippets up front, in parallel.

The syntax (a plain SuperFences header, so the page still renders as highlighted code without the
plugin):

    ```js {#micro-vs-macro .trace}
    console.log("Start");
    ```

    ```text {.expect}
    Start    sync
    ```

The scanner follows SuperFences' rules where they matter here: a fence opens with three or more
backticks or tildes after any indentation or blockquote prefix, closes with the same character, at
least as many, behind the same prefix, and nothing inside a fence is another fence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from markdown.extensions.attr_list import get_attrs_and_remainder

from looplens.errors import SnippetError
from looplens.expectation import parse_expectation
from looplens.limits import LIMIT_OPTIONS, PERMISSIONS, limit_kind, parse_limit
from looplens.snippet import FENCE_LANGUAGES, FILE_LANGUAGES, Expectation, Snippet

TRACE_CLASS = "trace"
EXPECT_CLASS = "expect"
#: A traced fence whose output holds measured figures (wall-clock times): they vary per build.
MEASURED_CLASS = "measured"
PREDICT_CLASS = "predict"
#: The most runs a fence may ask for: each run has the whole time limit, so runs=100000 would
#: hold a build for days.
MAX_RUNS = 200
#: A traced fence whose printed order can change from run to run; each {.expect} fence that
#: follows it declares one ordering it may print.
NONDETERMINISTIC_CLASS = "nondeterministic"

_OPENING = re.compile(r"^(?P<prefix>[ \t>]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_INFO = re.compile(r"^[ \t]*\.?(?P<lang>[\w#.+-]+)?[ \t]*(?:\{(?P<attrs>.*)\})?[ \t]*$")
_INCLUDE = re.compile(r"""^--8<--[ \t]+(?P<quote>["'])(?P<path>[^"']+)(?P=quote)[ \t]*$""")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True, slots=True)
class Fence:
    """One fenced block as written: header fields and body, prefix removed."""

    lang: str
    id: str
    classes: tuple[str, ...]
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
        body = "\n".join(_strip_prefix(line, prefix) for line in lines[index + 1 : end])
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


def collect_snippets(markdown: str, page: str, include_roots: Sequence[Path]) -> list[Snippet]:
    """The traced snippets of one page, each with its expectation; raises SnippetError."""
    snippets: list[Snippet] = []
    fences = list(iter_fences(markdown))
    lines = markdown.splitlines()
    claimed: set[int] = set()
    for position, fence in enumerate(fences):
        if TRACE_CLASS in fence.classes:
            expects = expectations_following(fences, position, lines)
            claimed.update(range(position + 1, position + 1 + len(expects)))
            snippets.append(_snippet(fence, expects, page, include_roots))
        elif EXPECT_CLASS in fence.classes and position not in claimed:
            raise SnippetError(
                f"{page}:{fence.line}: an expected-output fence ({{.expect}}) must directly "
                "follow a traced fence ({#some-id .trace}), with only blank lines between"
            )
    _reject_duplicate_ids(snippets)
    return snippets


def expectations_following(fences: list[Fence], position: int, lines: list[str]) -> list[Fence]:
    """The {.expect} fences right after a traced fence, each after the previous one with only
    blank lines between (several only make sense for a nondeterministic snippet)."""
    traced = fences[position]
    found: list[Fence] = []
    previous = traced
    for candidate in fences[position + 1 :]:
        if not _is_expectation_of(candidate, previous, lines, traced):
            break
        found.append(candidate)
        previous = candidate
    return found


def _is_expectation_of(candidate: Fence, previous: Fence, lines: list[str], traced: Fence) -> bool:
    if EXPECT_CLASS not in candidate.classes or TRACE_CLASS not in traced.classes:
        return False
    # The lines after the previous fence's closing line, up to the candidate's opening line.
    between = lines[previous.closing_line or len(lines) : candidate.line - 1]
    return candidate.prefix == traced.prefix and all(
        _strip_prefix(line, traced.prefix).strip() == "" for line in between
    )


def _snippet(
    fence: Fence, expects: list[Fence], page: str, include_roots: Sequence[Path]
) -> Snippet:
    where = f"{page}:{fence.line}"
    if not fence.closed:
        raise SnippetError(f"{where}: the traced fence is never closed")
    if not fence.id:
        raise SnippetError(
            f"{where}: a traced fence needs an id, "
            f"for example ```{fence.lang} {{#my-example .trace}}"
        )
    if not _ID.match(fence.id):
        raise SnippetError(
            f"{where}: snippet id '{fence.id}' must be lowercase letters, digits, '-' or '_' "
            "(it becomes a permalink)"
        )
    if fence.lang not in FENCE_LANGUAGES:
        known = ", ".join(sorted(FENCE_LANGUAGES))
        raise SnippetError(
            f"{where}: snippet '{fence.id}': cannot trace language '{fence.lang}' "
            f"(traced languages: {known})"
        )
    language, extension = FENCE_LANGUAGES[fence.lang]
    source, include = _source(fence, where, include_roots)
    filename = fence.option("filename") or (Path(include).name if include else fence.id + extension)
    if "/" in filename or "\\" in filename or filename.startswith("."):
        raise SnippetError(
            f"{where}: snippet '{fence.id}': filename '{filename}' must be a plain file name"
        )
    if FILE_LANGUAGES.get(Path(filename).suffix) != language:
        raise SnippetError(
            f"{where}: snippet '{fence.id}': filename '{filename}' "
            f"does not fit language '{fence.lang}'"
        )
    clock = fence.option("clock") or "virtual"
    if clock not in ("virtual", "real"):
        raise SnippetError(
            f"{where}: snippet '{fence.id}': clock must be \"virtual\" or \"real\", not '{clock}'"
        )
    exit_code = fence.option("exit") or "0"
    if not exit_code.isdigit():
        raise SnippetError(
            f"{where}: snippet '{fence.id}': exit must be a number, not '{exit_code}'"
        )
    limits = _limits(fence, where)
    allow = _allow(fence, where)
    nondeterministic = NONDETERMINISTIC_CLASS in fence.classes
    if nondeterministic and PREDICT_CLASS in fence.classes:
        raise SnippetError(
            f"{where}: snippet '{fence.id}': a .nondeterministic snippet cannot be a .predict "
            "question: its printed order has no single right answer"
        )
    orderings = tuple(_expectation(expect, page, fence.id) for expect in expects)
    _check_orderings(fence, orderings, nondeterministic, where)
    return Snippet(
        fence.id,
        language,
        filename,
        source,
        page,
        fence.line,
        orderings[0] if orderings else None,
        include,
        clock,
        int(exit_code),
        limits,
        allow,
        measured=MEASURED_CLASS in fence.classes,
        predict=PREDICT_CLASS in fence.classes,
        nondeterministic=nondeterministic,
        orderings=orderings,
        runs=_runs(fence, where),
    )


def _check_orderings(
    fence: Fence, orderings: tuple[Expectation, ...], nondeterministic: bool, where: str
) -> None:
    if nondeterministic and len(orderings) < 2:
        said = "declares no ordering" if not orderings else "declares only one ordering"
        raise SnippetError(
            f"{where}: snippet '{fence.id}' is marked .nondeterministic but {said}: a snippet "
            "whose order can change prints at least two orderings; declare each in its own "
            "{.expect} fence right after it, or remove .nondeterministic if its order is fixed"
        )
    if not nondeterministic and len(orderings) > 1:
        raise SnippetError(
            f"{where}: snippet '{fence.id}' has {len(orderings)} expected-output fences: only a "
            "snippet marked .nondeterministic (its order can change) declares several orderings"
        )


def _runs(fence: Fence, where: str) -> int | None:
    """How many times the fence asks to be run: runs=20."""
    text = fence.option("runs")
    if text is None:
        return None
    if not text.isdigit() or not 1 <= int(text) <= MAX_RUNS:
        raise SnippetError(
            f"{where}: snippet '{fence.id}': runs must be a count from 1 to {MAX_RUNS}, "
            f"not '{text}'"
        )
    return int(text)


def _limits(fence: Fence, where: str) -> tuple[tuple[str, float], ...]:
    """The limits a fence sets: timeout=30 (seconds), output=2MB, events=50000, memory=1GB."""
    limits: list[tuple[str, float]] = []
    for field, (option, _) in LIMIT_OPTIONS.items():
        text = fence.option(option)
        if text is None:
            continue
        value = parse_limit(field, text)
        if value is None:
            raise SnippetError(
                f"{where}: snippet '{fence.id}': {option} must be {limit_kind(field)} above 0, "
                f"not '{text}'"
            )
        limits.append((field, value))
    return tuple(limits)


def _allow(fence: Fence, where: str) -> tuple[str, ...]:
    """What a fence opens in the sandbox, as it wrote it: allow="worker,net"."""
    text = fence.option("allow")
    if text is None:
        return ()
    asked = tuple(sorted({word.strip() for word in text.split(",") if word.strip()}))
    unknown = [word for word in asked if word not in PERMISSIONS]
    if unknown:
        raise SnippetError(
            f"{where}: snippet '{fence.id}': allow cannot open '{unknown[0]}' "
            f"(it can open: {', '.join(PERMISSIONS)})"
        )
    return asked


def _source(fence: Fence, where: str, include_roots: Sequence[Path]) -> tuple[str, str | None]:
    include = _INCLUDE.match(fence.body.strip())
    if include is None:
        if "--8<--" in fence.body:
            raise SnippetError(
                f"{where}: snippet '{fence.id}': a traced fence can include one whole file, "
                'as its only line: --8<-- "path/to/file.js"'
            )
        return fence.body + "\n", None
    relative = include["path"]
    for root in include_roots:
        candidate = root / relative
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8"), relative
    searched = ", ".join(str(root) for root in include_roots) or "(no folders)"
    raise SnippetError(
        f"{where}: snippet '{fence.id}': included file '{relative}' not found in {searched}"
    )


def _expectation(fence: Fence, page: str, snippet_id: str) -> Expectation:
    streams = fence.option("stream")
    if streams not in (None, "stdout", "stderr"):
        raise SnippetError(
            f"{page}:{fence.line}: snippet '{snippet_id}': stream must be stdout or stderr, "
            f"not '{streams}'"
        )
    return parse_expectation(
        fence.body, fence_line=fence.line, streams=(streams,) if streams else ("stdout", "stderr")
    )


def _reject_duplicate_ids(snippets: list[Snippet]) -> None:
    seen: dict[str, Snippet] = {}
    for snippet in snippets:
        if snippet.id in seen:
            raise SnippetError(
                f"{snippet.where}: the id is already used at line {seen[snippet.id].line}; "
                "ids are permalinks and must be unique"
            )
        seen[snippet.id] = snippet


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


def _strip_prefix(line: str, prefix: str) -> str:
    # Lines inside an indented fence carry the fence's prefix; blank lines may carry less of it.
    if line.startswith(prefix):
        return line[len(prefix) :]
    return line.lstrip(" \t>") if not line.strip(" \t>") else line
