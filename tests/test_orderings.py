"""Judging the runs of one snippet: a changing order fails unless marked; a marked snippet's runs
must each print a declared ordering; the drawn run is chosen without counts or timing."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from material.plugins.search.plugin import Parser as SearchParser
from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config
from mkdocs.exceptions import Abort

from looplens.checks.judge import judge, printed_order
from looplens.errors import SnippetError
from looplens.fences.collect import collect_snippets
from looplens.render.block import render_snippet
from looplens.runtimes.matrix import DEFAULT_RUNTIMES, find_runtimes
from looplens.snippet import Snippet
from looplens.trace import Callback, Event, PrintedLine, Trace
from looplens.tracing.run import MARKED_RUNS, runs_for

MARKED = """\
```js {#race .trace .nondeterministic}
setTimeout(() => console.log("timeout"), 0);
setImmediate(() => console.log("immediate"));
```

```text {.expect}
immediate  check
timeout    timers
```

```text {.expect}
timeout    timers
immediate  check
```
"""

UNMARKED = """\
```js {#race .trace}
setTimeout(() => console.log("timeout"), 0);
setImmediate(() => console.log("immediate"));
```
"""


def collect(markdown: str) -> Snippet:
    (snippet,) = collect_snippets(markdown, "docs/page.md", [])
    return snippet


def run(*texts: str, exit_code: int = 0, tag: int = 0) -> Trace:
    """A run that printed `texts` (queue check for "immediate", timers otherwise); `tag` sets a
    time on the main callback so that runs with the same output can be told apart."""
    lines = tuple(
        PrintedLine(text, "stdout", "check" if text == "immediate" else "timers", None, 0.0)
        for text in texts
    )
    main = Callback(0, "sync", "main script", None, None, float(tag))
    return Trace("javascript", "node test", exit_code, lines, (main,), ())


def test_a_marked_snippet_collects_every_declared_ordering() -> None:
    snippet = collect(MARKED)
    assert snippet.nondeterministic
    assert [expectation.fence_line for expectation in snippet.orderings] == [6, 11]
    assert snippet.expectation == snippet.orderings[0]
    assert runs_for(snippet, 1) == MARKED_RUNS
    assert runs_for(dataclasses.replace(snippet, runs=5), 1) == 5
    assert runs_for(collect(UNMARKED), 3) == 3


def test_marked_with_a_single_ordering_is_an_error() -> None:
    one = MARKED[: MARKED.rindex("```text")]
    with pytest.raises(SnippetError) as caught:
        collect(one)
    assert str(caught.value).startswith(
        "docs/page.md:1: snippet 'race' is marked .nondeterministic but declares only one ordering"
    )


def test_several_orderings_without_the_mark_are_an_error() -> None:
    with pytest.raises(SnippetError, match=r"only a snippet marked \.nondeterministic"):
        collect(MARKED.replace(" .nondeterministic", ""))


def test_runs_must_be_a_count() -> None:
    with pytest.raises(SnippetError, match="runs must be a count from 1 to 200, not '0'"):
        collect(UNMARKED.replace(".trace}", ".trace runs=0}"))


def test_unmarked_runs_that_differ_fail_naming_both_outputs() -> None:
    snippet = dataclasses.replace(collect(UNMARKED), source="")
    judgement = judge(snippet, [run("a", "b"), run("a", "b"), run("b", "a")])
    assert judgement.verdict is not None
    (reason,) = judgement.verdict.reasons
    assert reason.startswith(
        "its printed order is not fixed: run 3 of 3 printed ['b', 'a'] where run 1 printed "
        "['a', 'b']. A page must not show one order"
    )
    assert "mark the fence .nondeterministic" in reason
    (other,) = judge(snippet, [run("a", "b"), run("a", "c")]).verdict.reasons  # type: ignore[union-attr]
    assert other.startswith("its output is not fixed: run 2 of 2 printed ['a', 'c']")


def test_unmarked_runs_that_agree_pass() -> None:
    snippet = dataclasses.replace(collect(UNMARKED), source="")
    judgement = judge(snippet, [run("a", "b", tag=1), run("a", "b", tag=2)])
    assert judgement.verdict is None
    assert judgement.shown.callbacks[0].t == 1


def test_a_measured_snippet_may_print_other_figures_but_not_another_order() -> None:
    snippet = dataclasses.replace(collect(UNMARKED), source="", measured=True)
    assert printed_order(snippet, run("took 12.5 ms")) == printed_order(snippet, run("took 9 ms"))
    assert judge(snippet, [run("took 12 ms", "x"), run("took 3 ms", "x")]).verdict is None
    assert judge(snippet, [run("took 12 ms", "x"), run("x", "took 3 ms")]).verdict is not None


def test_marked_runs_are_counted_per_declared_ordering() -> None:
    snippet = collect(MARKED)
    first, second = run("immediate", "timeout"), run("timeout", "immediate")
    judgement = judge(snippet, [second, first, first, second, first])
    assert judgement.verdict is None
    assert judgement.orderings is not None
    assert [declared.seen for declared in judgement.orderings.declared] == [3, 2]
    assert judgement.orderings.runs == 5


def test_the_drawn_run_is_the_first_that_printed_the_first_declared_ordering_seen() -> None:
    snippet = collect(MARKED)
    runs = [
        run("timeout", "immediate", tag=1),
        run("immediate", "timeout", tag=2),
        run("immediate", "timeout", tag=3),
    ]
    judgement = judge(snippet, runs)
    assert judgement.shown.callbacks[0].t == 2
    assert judgement.orderings is not None and judgement.orderings.shown == 0
    # When the first declared ordering was not seen, the second one's first run is drawn.
    only_second = judge(snippet, [runs[0], run("timeout", "immediate", tag=4)])
    assert only_second.shown.callbacks[0].t == 1
    assert only_second.orderings is not None and only_second.orderings.shown == 1


def test_an_undeclared_ordering_fails_like_a_wrong_expectation() -> None:
    snippet = collect(MARKED)
    judgement = judge(snippet, [run("immediate", "timeout"), run("immediate")])
    assert judgement.verdict is not None
    assert judgement.verdict.reasons == (
        "run 2 of 2 printed an ordering that none of its 2 declared orderings (fences at lines "
        "6, 11) accepts: if it is right, declare it in one more {.expect} fence",
    )
    assert judgement.verdict.output is not None
    assert "-timeout  [timers]" in judgement.verdict.output.diff


def test_a_marked_run_with_the_wrong_exit_code_fails() -> None:
    snippet = collect(MARKED)
    judgement = judge(
        snippet, [run("immediate", "timeout"), run("immediate", "timeout", exit_code=1)]
    )
    assert judgement.verdict is not None
    assert "a run exited with code 1, not 0" in judgement.verdict.reasons[0]


def test_a_marked_snippet_that_never_varied_is_fine() -> None:
    snippet = collect(MARKED)
    judgement = judge(snippet, [run("immediate", "timeout")] * 3)
    assert judgement.verdict is None
    assert judgement.orderings is not None
    assert [declared.seen for declared in judgement.orderings.declared] == [3, 0]


def test_the_page_shows_each_ordering_with_its_count_marked_as_measured() -> None:
    snippet = collect(MARKED)
    first, second = run("immediate", "timeout"), run("timeout", "immediate")
    judgement = judge(snippet, [first, second, first, first])
    html = render_snippet(snippet, judgement.shown, "<pre>code</pre>", None, judgement.orderings)
    page = BeautifulSoup(html, "html.parser")
    block = page.select_one("div.looplens")
    assert block is not None and block.has_attr("data-looplens-measured")
    orderings = page.select_one(".looplens-orderings")
    assert orderings is not None and orderings.has_attr("data-looplens-measured")
    items = [item.get_text(" ", strip=True) for item in orderings.select("li")]
    assert items == [
        "immediate  check\ntimeout    timers seen in 3 of 4 runs · the run drawn below",
        "timeout    timers\nimmediate  check seen in 1 of 4 runs",
    ]
    assert "Of 4 runs on the build machine; the counts change" in orderings.get_text()
    # Counts change per build: Material's search index must not take them in.
    parser = SearchParser()
    parser.feed(html)
    parser.close()
    indexed = "".join("".join(section.text) for section in parser.data)
    assert "seen in" not in indexed and "<pre>code</pre>" in indexed
    caption = page.select_one(".looplens-caption")
    assert caption is not None and "one of several possible orderings" in caption.get_text()


# --- in a real build ------------------------------------------------------------------------------

SITE = """\
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
      cache: false
"""


def build(root: Path, page: str, *, strict: bool) -> BeautifulSoup:
    (root / "docs").mkdir(parents=True)
    (root / "mkdocs.yml").write_text(SITE)
    (root / "docs" / "index.md").write_text(page)
    mkdocs_build(load_config(str(root / "mkdocs.yml"), strict=strict))
    html = (root / "site" / "index.html").read_text(encoding="utf-8")
    return BeautifulSoup(html, "html.parser")


def test_a_built_page_shows_the_orderings_of_a_marked_snippet(tmp_path: Path) -> None:
    marked = MARKED.replace(".nondeterministic", ".nondeterministic runs=6")
    page = build(tmp_path, "# Runs\n\n" + marked, strict=True)
    block = page.select_one('div.looplens[data-looplens-id="race"]')
    assert block is not None and block.has_attr("data-looplens-measured")
    # Counted on each runtime, in its own tab: every runtime ran it six times.
    counted = block.select(".looplens-orderings")
    assert len(counted) == len(find_runtimes(DEFAULT_RUNTIMES).for_language("javascript"))
    for orderings in counted:
        counts = [item.select("p")[-1].get_text() for item in orderings.select("li")]
        assert len(counts) == 2
        seen = [int(text.split()[2]) if text.startswith("seen") else 0 for text in counts]
        assert sum(seen) == 6
    assert "nondeterministic" not in str(block.select_one(".highlight"))


def test_an_unmarked_racy_snippet_fails_the_strict_build_naming_page_line_and_lines(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING), pytest.raises(Abort):
        build(tmp_path, "# Runs\n\n" + UNMARKED, strict=True)
    messages = "\n".join(record.getMessage() for record in caplog.records)
    assert "docs/index.md:3: snippet 'race': its printed order can change from run to run: " in (
        messages
    )
    # Whichever ran first in this run, both callbacks are named by their lines, with the margin
    # and the words of the rule that explains it.
    assert "the setTimeout callback of line 1" in messages
    assert "the setImmediate callback of line 2" in messages
    assert "ms to spare (the page needs 10 ms)" in messages
    assert "setTimeout at line 1 (due after 1 ms) and setImmediate at line 2" in messages


def test_runs_whose_silent_callbacks_swap_keep_their_verdict_and_say_so_on_the_page() -> None:
    snippet = dataclasses.replace(collect(UNMARKED), source="")
    printed = run("done")
    silent = (
        Callback(1, "poll", "new Worker", 5, 0, 0.0),
        Callback(2, "microtask", ".then", 7, 0, 0.0),
    )
    one = dataclasses.replace(
        printed,
        callbacks=printed.callbacks + silent,
        events=(Event("run", 0, 0.0), Event("run", 1, 0.0), Event("run", 2, 0.0)),
    )
    other = dataclasses.replace(one, events=(one.events[0], one.events[2], one.events[1]))
    judgement = judge(snippet, [one, other, one])
    assert judgement.verdict is None
    assert (judgement.schedules, judge(snippet, [one, one]).schedules) == (2, 1)
    html = render_snippet(snippet, judgement.shown, "", None, None, judgement.schedules)
    page = BeautifulSoup(html, "html.parser")
    block = page.select_one("div.looplens")
    assert block is not None and block.has_attr("data-looplens-measured")
    caption = page.select_one(".looplens-caption")
    assert caption is not None
    assert "callbacks ran in 2 different orders in this build's runs" in caption.get_text()


def test_a_node_run_with_worker_threads_says_its_interleaving_may_differ() -> None:
    snippet = dataclasses.replace(collect(UNMARKED), source="")
    single = run("done")
    worker = Callback(1, "sync", "main script", None, None, 0.0, thread="worker 1")
    with_worker = dataclasses.replace(single, callbacks=(*single.callbacks, worker))
    for trace, varies in ((single, False), (with_worker, True)):
        page = BeautifulSoup(render_snippet(snippet, trace, "", None), "html.parser")
        block, caption = page.select_one("div.looplens"), page.select_one(".looplens-caption")
        assert block is not None and caption is not None
        assert block.has_attr("data-looplens-measured") is varies
        assert ("another run may interleave them differently" in caption.get_text()) is varies
