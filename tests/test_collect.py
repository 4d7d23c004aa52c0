"""The scanner that finds traced fences before Markdown runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from looplens.errors import SnippetError
from looplens.fences.collect import collect_snippets
from looplens.fences.scan import iter_fences, traced_fence_ids
from looplens.snippet import ExpectedLine

PAGE = "docs/page.md"


def collect(markdown: str, roots: list[Path] | None = None) -> list:  # type: ignore[type-arg]
    return collect_snippets(markdown, PAGE, roots or [])


def test_a_traced_fence_with_its_expectation() -> None:
    markdown = """# Title

```js {#first .trace}
console.log("a");
```

```text {.expect}
a   sync
b
```
"""
    [snippet] = collect(markdown)
    assert (snippet.id, snippet.language, snippet.filename) == ("first", "javascript", "first.js")
    assert snippet.source == 'console.log("a");\n'
    assert snippet.line == 3
    assert snippet.expectation is not None
    assert snippet.expectation.fence_line == 7
    assert snippet.expectation.lines == (ExpectedLine("a", "sync"), ExpectedLine("b", None))


def test_fences_without_the_trace_class_are_left_alone() -> None:
    markdown = "```js\nconsole.log(1)\n```\n\n```js {#named}\nx\n```\n"
    assert collect(markdown) == []


def test_fences_inside_tabs_and_admonitions_are_found_with_their_lines() -> None:
    markdown = """=== "Tab"

    ```mjs {#in-tab .trace}
    await null;
    ```

    ```text {.expect}
    ok
    ```

!!! note

    ```ts {#in-note .trace}
    const x: number = 1;
    ```
"""
    in_tab, in_note = collect(markdown)
    assert (in_tab.id, in_tab.line, in_tab.filename, in_tab.source) == (
        "in-tab",
        3,
        "in-tab.mjs",
        "await null;\n",
    )
    assert in_tab.expectation is not None and in_tab.expectation.lines == (ExpectedLine("ok"),)
    assert (in_note.id, in_note.line, in_note.filename) == ("in-note", 13, "in-note.ts")
    assert in_note.expectation is None


def test_a_fence_shown_inside_a_longer_fence_is_only_text() -> None:
    markdown = """````markdown
```js {#example .trace}
console.log(1)
```
````
"""
    assert collect(markdown) == []
    assert [fence.lang for fence in iter_fences(markdown)] == ["markdown"]


def test_filename_decides_the_module_kind() -> None:
    [snippet] = collect('```js {#esm .trace filename="order.mjs"}\nx\n```\n')
    assert snippet.filename == "order.mjs"


def test_a_filename_of_another_language_is_an_error() -> None:
    with pytest.raises(SnippetError, match=r"docs/page.md:1: snippet 'esm': filename 'a.py'"):
        collect('```js {#esm .trace filename="a.py"}\nx\n```\n')


def test_code_included_from_a_snippets_file(tmp_path: Path) -> None:
    (tmp_path / "node").mkdir()
    (tmp_path / "node" / "demo.js").write_text("console.log('from file');\n")
    [snippet] = collect('```js {#inc .trace}\n--8<-- "node/demo.js"\n```\n', [tmp_path])
    assert snippet.source == "console.log('from file');\n"
    assert (snippet.include, snippet.filename) == ("node/demo.js", "demo.js")


def test_a_missing_include_names_page_line_and_file(tmp_path: Path) -> None:
    with pytest.raises(SnippetError, match=r"docs/page.md:2: snippet 'inc': included file 'x.js'"):
        collect('\n```js {#inc .trace}\n--8<-- "x.js"\n```\n', [tmp_path])


def test_a_traced_fence_without_id_names_page_and_line() -> None:
    with pytest.raises(SnippetError, match=r"^docs/page.md:3: a traced fence needs an id"):
        collect("text\n\n```js {.trace}\nx\n```\n")


def test_an_id_that_cannot_be_a_permalink_is_refused() -> None:
    with pytest.raises(SnippetError, match="must be lowercase"):
        collect("```js {#Bad.Id .trace}\nx\n```\n")


def test_an_expectation_after_prose_is_an_error() -> None:
    markdown = "```js {#a .trace}\nx\n```\n\nSome prose.\n\n```text {.expect}\ny\n```\n"
    with pytest.raises(SnippetError, match=r"docs/page.md:7: an expected-output fence"):
        collect(markdown)


def test_duplicate_ids_on_a_page_are_an_error() -> None:
    markdown = "```js {#same .trace}\nx\n```\n\n```js {#same .trace}\ny\n```\n"
    with pytest.raises(SnippetError, match=r"docs/page.md:5: snippet 'same': .* line 1"):
        collect(markdown)


def test_an_untraceable_language_is_named() -> None:
    with pytest.raises(SnippetError, match="cannot trace language 'rust'"):
        collect("```rust {#r .trace}\nfn main() {}\n```\n")


def test_an_unclosed_traced_fence_is_an_error() -> None:
    with pytest.raises(SnippetError, match=r"docs/page.md:3: the traced fence is never closed"):
        collect("# T\n\n```js {#open .trace}\nconsole.log(1)\n")


def test_the_language_may_be_given_as_the_first_class() -> None:
    [snippet] = collect("```{.js #as-class .trace}\nx\n```\n")
    assert (snippet.id, snippet.language, snippet.filename) == (
        "as-class",
        "javascript",
        "as-class.js",
    )


@pytest.mark.parametrize("filename", ["../escaped.js", "sub/dir.js", ".hidden.js"])
def test_a_filename_must_be_a_plain_name(filename: str) -> None:
    with pytest.raises(SnippetError, match="must be a plain file name"):
        collect(f'```js {{#f .trace filename="{filename}"}}\nx\n```\n')


def test_the_expected_exit_code_and_clock_are_read() -> None:
    [snippet] = collect('```python {#p .trace exit=1 clock="real"}\nraise SystemExit(1)\n```\n')
    assert (snippet.exit_code, snippet.clock, snippet.filename) == (1, "real", "p.py")
    with pytest.raises(SnippetError, match="exit must be a number"):
        collect("```js {#e .trace exit=yes}\nx\n```\n")
    with pytest.raises(SnippetError, match='clock must be "virtual" or "real"'):
        collect('```js {#c .trace clock="fast"}\nx\n```\n')


def test_an_expectation_follows_a_fence_whose_body_is_one_blank_line() -> None:
    [snippet] = collect("```js {#blank .trace}\n\n```\n\n```text {.expect}\n```\n")
    assert snippet.expectation is not None and snippet.expectation.lines == ()


def test_a_measured_fence_is_marked_and_others_are_not() -> None:
    measured, plain = collect("```js {#m .trace .measured}\nx\n```\n\n```js {#p .trace}\nx\n```\n")
    assert (measured.measured, plain.measured) == (True, False)


def test_runs_is_capped_and_a_nondeterministic_snippet_is_no_question() -> None:
    [snippet] = collect("```js {#r .trace runs=200}\nx\n```\n")
    assert snippet.runs == 200
    with pytest.raises(SnippetError, match="runs must be a count from 1 to 200, not '100000'"):
        collect("```js {#r .trace runs=100000}\nx\n```\n")
    both = "```js {#q .trace .predict .nondeterministic}\nx\n```\n"
    both += "\n```text {.expect}\na\nb\n```\n\n```text {.expect}\nb\na\n```\n"
    with pytest.raises(SnippetError, match=r"docs/page.md:1: snippet 'q': a \.nondeterministic"):
        collect(both)


def test_the_ids_of_traced_fences_are_those_of_closed_traced_fences() -> None:
    page = (
        '```js {#plain}\nconsole.log("not traced");\n```\n\n'
        '```js {#traced .trace}\nconsole.log("traced");\n```\n\n'
        '```js {#unclosed .trace}\nconsole.log("the page ends first");\n'
    )
    assert traced_fence_ids(page) == {"traced"}
