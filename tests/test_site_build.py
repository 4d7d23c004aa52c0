"""Build tiny sites into a temporary folder with the real MkDocs, Material and SuperFences."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Tag
from material.plugins.search.plugin import Parser as SearchParser
from mkdocs.commands.build import build
from mkdocs.config import load_config
from mkdocs.exceptions import Abort

from looplens.cache import TraceCache

PROJECT = Path(__file__).parent.parent

CONFIG = """\
site_name: tiny
theme:
  name: material
markdown_extensions:
  - attr_list
  - admonition
  - pymdownx.superfences
  - pymdownx.tabbed:
      alternate_style: true
plugins:
  - looplens:
      enabled: {enabled}
"""

PAGE = """\
# Tiny

=== "First tab"

    Some text.

=== "Second tab"

    ```js {{#order .trace}}
    console.log("Start");
    setTimeout(() => console.log("Timeout"), 0);
    Promise.resolve().then(() => console.log("Promise"));
    console.log("End");
    ```

    ```text {{.expect}}
    Start     sync
    End       sync
    Promise   {promise_queue}
    Timeout   timers
    ```

```js
console.log("not traced");
```
"""


def shown_text(element: Tag) -> str:
    """An element's text as a reader sees it: without the words only a screen reader gets, or
    none does (a tab label's unlinking name)."""
    copy = BeautifulSoup(str(element), "html.parser")
    for hidden in copy.select(".looplens-visually-hidden"):
        hidden.decompose()
    return copy.get_text()


def make_site(root: Path, *, enabled: bool = True, promise_queue: str = "microtask") -> Path:
    (root / "docs").mkdir(parents=True)
    (root / "mkdocs.yml").write_text(CONFIG.format(enabled=str(enabled).lower()))
    (root / "docs" / "index.md").write_text(PAGE.format(promise_queue=promise_queue))
    return root / "mkdocs.yml"


def build_site(config_file: Path, *, strict: bool = False) -> BeautifulSoup:
    config = load_config(str(config_file), strict=strict)
    build(config)
    html = (config_file.parent / "site" / "index.html").read_text(encoding="utf-8")
    return BeautifulSoup(html, "html.parser")


def assert_out_of_search(page: BeautifulSoup, *, code: str, run_text: str) -> None:
    """What Material's search indexes of the page: the code, not the run (table, diagram)."""
    parser = SearchParser()
    parser.feed(str(page.select_one("article")))
    parser.close()
    indexed = "".join("".join(section.text) for section in parser.data)
    assert code in indexed
    assert f"<code>{run_text}</code>" not in indexed
    assert "sequenceDiagram" not in indexed
    assert "Traced at build time" not in indexed, "the caption varies with the runs it counts"


def test_a_traced_fence_in_a_tab_becomes_code_table_and_diagram(tmp_path: Path) -> None:
    page = build_site(make_site(tmp_path), strict=True)
    block = page.select_one('div.looplens[data-looplens-id="order"]')
    assert block is not None
    assert block.select_one("#order") is not None, "the snippet id is the block's anchor"
    title = block.select_one(".highlight .filename")
    assert title is not None and title.get_text() == "order.js"
    rows = [
        [cell.get_text() for cell in row.select("td")]
        for row in block.select(".looplens-output table tbody tr")
    ]
    assert [(row[1], row[3]) for row in rows] == [
        ("Start", "sync"),
        ("End", "sync"),
        ("Promise", "microtask"),
        ("Timeout", "timers"),
    ]
    # The turn (the timer runs in a pass of the loop, the rest in the main script's), then who
    # scheduled it.
    assert [row[4] for row in rows] == ["0", "0", "0", "1"]
    assert rows[3][5] == "setTimeout, line 2"
    assert_out_of_search(page, code="setTimeout(", run_text="Timeout")
    labels = [shown_text(label) for label in block.select(".tabbed-labels label")]
    assert labels == ["Output", "Sequence diagram", "Step through"]
    diagram = block.select(".tabbed-block")[1].select_one("pre.looplens-diagram-source code")
    assert diagram is not None and diagram.get_text().startswith("sequenceDiagram")
    assert "q_timers->>stack: run setTimeout callback from line 2" in diagram.get_text()
    assert block.select_one('a.looplens-permalink[href="#order"]') is not None
    # the expectation fence is replaced by the checked table; untraced fences stay code
    assert "Start     sync" not in page.get_text()
    assert 'console.log("not traced")' in page.select("div.highlight")[-1].get_text()


def test_a_wrong_expectation_fails_a_strict_build_naming_page_line_id_and_diff(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config_file = make_site(tmp_path, promise_queue="timers")
    with caplog.at_level(logging.WARNING), pytest.raises(Abort):
        build_site(config_file, strict=True)
    message = "\n".join(record.getMessage() for record in caplog.records)
    assert "docs/index.md:9: snippet 'order': the real output differs" in message
    assert "-Promise  [timers]" in message
    assert "+Promise  [microtask]" in message


def test_a_wrong_expectation_shows_the_diff_on_the_page_when_not_strict(tmp_path: Path) -> None:
    page = build_site(make_site(tmp_path, promise_queue="timers"))
    failure = page.select_one('div.looplens[data-looplens-id="order"] .admonition.failure')
    assert failure is not None
    assert "+Promise  [microtask]" in failure.get_text()


def test_without_the_plugin_fences_render_as_plain_code(tmp_path: Path) -> None:
    page = build_site(make_site(tmp_path, enabled=False), strict=True)
    assert page.select_one("div.looplens") is None
    code = [block.get_text() for block in page.select("div.highlight")]
    assert any('setTimeout(() => console.log("Timeout"), 0);' in text for text in code)
    assert any("Promise   microtask" in text for text in code)
    assert page.select_one("#order") is not None, "the id still anchors the code block"


def test_control_characters_a_snippet_prints_show_as_symbols(tmp_path: Path) -> None:
    """Markdown marks its placeholders with \\x02 and \\x03 and fills any in the finished page;
    a browser reads CR as a line break, which ends a diagram's message."""
    config_file = make_site(tmp_path)
    (tmp_path / "docs" / "index.md").write_text(
        "# Controls\n\n```js {#controls .trace}\n"
        'console.log("a\\u0002wzxhzdk:0\\u0003b\\rc");\n```\n'
    )
    page = build_site(config_file)
    [cell] = page.select(".looplens-output tbody td code")
    assert cell.get_text() == "a\u2402wzxhzdk:0\u2403b\u240dc"
    diagram = page.select_one("pre.looplens-diagram-source")
    assert diagram is not None
    assert "console: a\u2402wzxhzdk:0\u2403b\u240dc\n" in diagram.get_text()
    assert page.select(".looplens-output .highlight") == [], "no other block was pulled in"


def test_two_builds_give_identical_pages(tmp_path: Path) -> None:
    first = build_site(make_site(tmp_path / "a")).decode()
    second = build_site(make_site(tmp_path / "b")).decode()
    assert first == second


def build_errors(config_file: Path, caplog: pytest.LogCaptureFixture) -> str:
    with caplog.at_level(logging.ERROR), pytest.raises(Abort):
        build_site(config_file)
    return "\n".join(record.getMessage() for record in caplog.records)


def test_superfences_is_required_with_a_fix_hint(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config_file = make_site(tmp_path)
    config_file.write_text(config_file.read_text().replace("  - pymdownx.superfences\n", ""))
    assert "requires pymdownx.superfences: add it to markdown_extensions" in build_errors(
        config_file, caplog
    )


def test_a_bad_fence_fails_the_build_naming_page_and_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config_file = make_site(tmp_path)
    (tmp_path / "docs" / "bad.md").write_text("# Bad\n\n```js {.trace}\nx\n```\n")
    assert "docs/bad.md:3: a traced fence needs an id" in build_errors(config_file, caplog)


def test_the_documentation_site_builds_strictly(tmp_path: Path) -> None:
    config = load_config(str(PROJECT / "mkdocs.yml"), strict=True, site_dir=str(tmp_path / "site"))
    build(config)
    page = (tmp_path / "site" / "node" / "microtasks-vs-macrotasks" / "index.html").read_text()
    assert 'id="micro-vs-macro"' in page


def test_a_rebuild_retraces_only_the_edited_snippet(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config_file = make_site(tmp_path)
    page = tmp_path / "docs" / "second.md"
    page.write_text('# Second\n\n```js {#second .trace}\nconsole.log("one");\n```\n')

    def summary() -> str:
        caplog.clear()
        with caplog.at_level(logging.INFO):
            build_site(config_file)
        return next(r.getMessage() for r in caplog.records if "snippets:" in r.getMessage())

    assert "2 snippets: 2 traced, 0 from the cache" in summary()
    assert "2 snippets: 0 traced, 2 from the cache" in summary()
    page.write_text(page.read_text().replace('"one"', '"two"'))
    assert "2 snippets: 1 traced, 1 from the cache" in summary()
    assert (tmp_path / ".cache" / "plugin" / "looplens").is_dir()


def test_a_snippet_that_crashes_unannounced_fails_a_strict_build(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config_file = make_site(tmp_path)
    page = tmp_path / "docs" / "crash.md"
    page.write_text('# Crash\n\n```js {#typo .trace}\nconsole.log("a"\n```\n')
    with caplog.at_level(logging.WARNING), pytest.raises(Abort):
        build_site(config_file, strict=True)
    message = "\n".join(record.getMessage() for record in caplog.records)
    assert "docs/crash.md:3: snippet 'typo': the snippet exited with code 1, not 0" in message
    page.write_text(page.read_text().replace(".trace}", ".trace exit=1}"))
    build_site(config_file, strict=True)


def test_a_snippet_id_equal_to_a_heading_id_is_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config_file = make_site(tmp_path)
    (tmp_path / "docs" / "same.md").write_text(
        "# Same\n\n## Order two\n\n```js {#order-two .trace}\nconsole.log(1)\n```\n"
    )
    with caplog.at_level(logging.WARNING), pytest.raises(Abort):
        build_site(config_file, strict=True)
    assert any(
        "docs/same.md: snippet id 'order-two' is also the id of a heading" in record.getMessage()
        for record in caplog.records
    )


def test_an_included_file_shows_its_code_even_without_the_snippets_extension(
    tmp_path: Path,
) -> None:
    config_file = make_site(tmp_path)
    (tmp_path / "snippets").mkdir()
    (tmp_path / "snippets" / "hello.js").write_text('console.log("from the file");\n')
    (tmp_path / "docs" / "index.md").write_text(
        '# Include\n\n```js {#included .trace}\n--8<-- "hello.js"\n```\n'
    )
    page = build_site(config_file, strict=True)
    code = page.select_one('div.looplens[data-looplens-id="included"] .highlight code')
    assert code is not None and code.get_text().strip() == 'console.log("from the file");'
    assert "--8<--" not in page.decode()


def test_a_measured_snippet_says_so_and_is_marked_for_the_reproducibility_check(
    tmp_path: Path,
) -> None:
    config = make_site(tmp_path)
    index = tmp_path / "docs" / "index.md"
    index.write_text(index.read_text().replace("{#order .trace}", "{#order .trace .measured}"))
    block = build_site(config, strict=True).select_one('div.looplens[data-looplens-id="order"]')
    assert block is not None and block.has_attr("data-looplens-measured")
    caption = block.select_one(".looplens-caption")
    assert caption is not None and "measured on the build machine" in caption.get_text()
    highlight = block.select_one(".highlight")
    assert highlight is not None and "measured" not in highlight.get_attribute_list("class")


def test_a_warm_build_shows_the_block_drawn_from_the_trace_it_reads(tmp_path: Path) -> None:
    """A drawn block is looked up by its trace's content: it is reused while the trace is the
    same, and redrawn when the kept trace differs (a re-run after damage, a measured snippet)."""
    config_file = make_site(tmp_path)
    cold = build_site(config_file)
    cache = tmp_path / ".cache" / "plugin" / "looplens"
    assert len(list((cache / "rendered").rglob("*.html"))) == 1
    assert str(build_site(config_file)) == str(cold)
    [block_entry] = (cache / "rendered").rglob("*.html")
    block = TraceCache(cache).get_rendered(block_entry.stem)
    assert block is not None
    TraceCache(cache).put_rendered(block_entry.stem, block.replace("sequenceDiagram", "REUSED"))
    assert "REUSED" in str(build_site(config_file)), "the warm build looks the block up"

    # The primary runtime's trace (the one the block shows first); one entry per runtime.
    [trace_entry] = [path for path in cache.glob("??/*.json") if '"node 24.' in path.read_text()]
    trace_entry.write_text(trace_entry.read_text().replace('"Timeout"', '"Timeout!"'))
    rows = build_site(config_file).select(".looplens-output table tbody tr td")
    assert "Timeout!" in [cell.get_text() for cell in rows]
    assert len(list((cache / "rendered").rglob("*.html"))) == 2


def test_a_measured_snippet_that_misses_its_mark_is_measured_again_next_build(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config_file = make_site(tmp_path, promise_queue="timers")  # an expectation the run misses
    index = tmp_path / "docs" / "index.md"
    index.write_text(index.read_text().replace("{#order .trace}", "{#order .trace .measured}"))

    def summary() -> str:
        caplog.clear()
        with caplog.at_level(logging.INFO):
            build_site(config_file)
        return next(r.getMessage() for r in caplog.records if "snippets:" in r.getMessage())

    assert "1 snippets: 1 traced, 0 from the cache" in summary()
    assert "1 snippets: 1 traced, 0 from the cache" in summary(), "the missed run was not kept"
    index.write_text(index.read_text().replace("Promise   timers", "Promise   microtask"))
    assert "1 snippets: 1 traced, 0 from the cache" in summary()
    assert "1 snippets: 0 traced, 1 from the cache" in summary(), "a run on the mark is kept"
