"""Collect the traced snippets of a page: each traced fence with its expected outputs, checked.

The syntax, for example:

    ```js {#micro-vs-macro .trace}
    console.log("Start");
    ```

    ```text {.expect}
    Start    sync
    ```

A snippet's code is the fence's body, or one whole file it includes (`--8<-- "path"`); its options
are read by looplens.fences.options, its expected outputs by looplens.fences.expected_output.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from looplens.errors import LooplensError, SnippetError
from looplens.fences.expected_output import parse_expectation
from looplens.fences.options import (
    read_allow,
    read_clock,
    read_exit_code,
    read_limits,
    read_min_margin,
    read_runs,
    read_runtimes,
)
from looplens.fences.scan import (
    EXPECT_CLASS,
    MEASURED_CLASS,
    NONDETERMINISTIC_CLASS,
    PREDICT_CLASS,
    TRACE_CLASS,
    Fence,
    iter_fences,
    strip_prefix,
)
from looplens.runtimes.runtime import parse_selectors
from looplens.snippet import FENCE_LANGUAGES, FILE_LANGUAGES, Expectation, Language, Snippet

_INCLUDE = re.compile(r"""^--8<--[ \t]+(?P<quote>["'])(?P<path>[^"']+)(?P=quote)[ \t]*$""")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


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
        strip_prefix(line, traced.prefix).strip() == "" for line in between
    )


def _snippet(
    fence: Fence, expects: list[Fence], page: str, include_roots: Sequence[Path]
) -> Snippet:
    where = f"{page}:{fence.line}"
    _check_header(fence, where)
    language, extension = FENCE_LANGUAGES[fence.lang]
    source, include = _source(fence, where, include_roots)
    filename = fence.option("filename") or (Path(include).name if include else fence.id + extension)
    _check_filename(fence, filename, language, where)
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
        read_clock(fence, where),
        read_exit_code(fence, where),
        read_limits(fence, where),
        read_allow(fence, where),
        measured=MEASURED_CLASS in fence.classes,
        predict=PREDICT_CLASS in fence.classes,
        nondeterministic=nondeterministic,
        orderings=orderings,
        runs=read_runs(fence, where),
        min_margin_ms=read_min_margin(fence, where),
        runtimes=read_runtimes(fence, where),
    )


def _check_header(fence: Fence, where: str) -> None:
    """A traced fence is closed, has a permalink-safe id and a language a tracer runs."""
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


def _check_filename(fence: Fence, filename: str, language: Language, where: str) -> None:
    """The name the code runs under is a plain file name whose extension fits the language."""
    if "/" in filename or "\\" in filename or filename.startswith("."):
        raise SnippetError(
            f"{where}: snippet '{fence.id}': filename '{filename}' must be a plain file name"
        )
    if FILE_LANGUAGES.get(Path(filename).suffix) != language:
        raise SnippetError(
            f"{where}: snippet '{fence.id}': filename '{filename}' "
            f"does not fit language '{fence.lang}'"
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
    if not nondeterministic and sum(not ordering.runtimes for ordering in orderings) > 1:
        raise SnippetError(
            f"{where}: snippet '{fence.id}' has {len(orderings)} expected-output fences for "
            "every runtime: only a snippet marked .nondeterministic (its order can change) "
            'declares several orderings; an output of some runtimes only says for="node@20"'
        )


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
    expectation = parse_expectation(
        fence.body, fence_line=fence.line, streams=(streams,) if streams else ("stdout", "stderr")
    )
    named = fence.option("for")
    if named is None:
        if fence.option("exit") is not None:
            raise SnippetError(
                f"{page}:{fence.line}: snippet '{snippet_id}': exit= on an expected output is "
                'for the runtimes it names (for="node@20"); the exit code of every runtime '
                "goes on the traced fence"
            )
        return expectation
    try:
        runtimes = parse_selectors(named)
    except LooplensError as error:
        raise SnippetError(f"{page}:{fence.line}: snippet '{snippet_id}': for: {error}") from error
    exit_code = read_exit_code(fence, f"{page}:{fence.line}") if fence.option("exit") else None
    return replace(expectation, runtimes=runtimes, exit_code=exit_code)


def _reject_duplicate_ids(snippets: list[Snippet]) -> None:
    seen: dict[str, Snippet] = {}
    for snippet in snippets:
        if snippet.id in seen:
            raise SnippetError(
                f"{snippet.where}: the id is already used at line {seen[snippet.id].line}; "
                "ids are permalinks and must be unique"
            )
        seen[snippet.id] = snippet
