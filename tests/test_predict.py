"""Predict-the-output: the question's data comes from the real trace, in a stable starting order
that is never the answer."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from looplens.checks.predictable import check_predictable
from looplens.errors import SnippetError
from looplens.fences.collect import collect_snippets
from looplens.queues import QUEUES_BY_NAME
from looplens.render.block import render_snippet
from looplens.render.predict import moves_to_answer, predict_data, starting_order
from looplens.snippet import Snippet
from looplens.trace import PrintedLine, Trace

PROJECT = Path(__file__).parent.parent
GOLDEN = PROJECT / "tests" / "golden"


def trace() -> Trace:
    return Trace.from_json((GOLDEN / "micro-vs-macro.trace.json").read_text(encoding="utf-8"))


def snippet(snippet_id: str = "micro-vs-macro", *, predict: bool = True) -> Snippet:
    return Snippet(snippet_id, "javascript", "a.js", "", "docs/a.md", 3, predict=predict)


def printing(*texts: str) -> Trace:
    return replace(
        trace(), lines=tuple(PrintedLine(text, "stdout", "sync", None, 0) for text in texts)
    )


def test_the_predict_class_marks_a_traced_fence() -> None:
    page = "```js {#q .trace .predict}\nconsole.log(1)\n```\n\n```js {#p .trace}\nx\n```\n"
    asked, plain = collect_snippets(page, "docs/a.md", [])
    assert asked.predict and not plain.predict


@pytest.mark.parametrize("snippet_id", ["micro-vs-macro", "a", "b", "puz-classic", "x-1", "x-2"])
def test_the_starting_order_is_a_shuffle_that_is_never_the_answer(snippet_id: str) -> None:
    for texts in (["a", "b"], ["a", "b", "c"], ["a", "a", "b"], ["x", "y", "x", "y"]):
        order = starting_order(snippet_id, texts)
        assert sorted(order) == list(range(len(texts)))
        assert [texts[index] for index in order] != texts
        assert starting_order(snippet_id, texts) == order, "the same id gives the same order"


@pytest.mark.parametrize("count", range(2, 9))
def test_no_question_starts_near_its_answer(count: int) -> None:
    texts = [f"line {number}" for number in range(count)]
    farthest = count * (count - 1) // 2  # every pair the wrong way round
    for number in range(40):
        order = starting_order(f"snippet-{number}", texts)
        assert moves_to_answer(texts, order) >= max(1, -(-farthest // 2))
    # The question that started one move from its answer (three lines, two adjacent swapped).
    three = ["sync", "microtask", "timeout"]
    assert moves_to_answer(three, starting_order("three-ways", three)) >= 2


def test_moves_count_a_repeated_line_as_its_twin() -> None:
    # Twins swapped are the same lines: no move; "b a a" for "a a b" is two.
    assert moves_to_answer(["a", "b", "a"], [2, 1, 0]) == 0
    assert moves_to_answer(["a", "a", "b"], [2, 0, 1]) == 2
    assert moves_to_answer(["a", "b", "c"], [2, 1, 0]) == 3
    assert moves_to_answer(["a", "b", "c"], [0, 1, 2]) == 0


def test_the_starting_order_depends_on_the_id() -> None:
    texts = [f"line {number}" for number in range(8)]
    orders = {tuple(starting_order(f"snippet-{number}", texts)) for number in range(10)}
    assert len(orders) > 5


def test_the_data_holds_the_real_lines_their_queues_and_a_note_with_a_glossary_link() -> None:
    data = predict_data(snippet(), trace(), "../glossary/")
    real = trace().lines
    assert [line[:3] for line in data["lines"]] == [
        [line.text, line.stream, line.queue] for line in real
    ]
    assert data["lines"][3][3] == "setTimeout, line 2", "who scheduled the Timeout line"
    assert set(data["queues"]) == {line.queue for line in real}
    note, link = data["queues"]["microtask"]
    assert note == QUEUES_BY_NAME["microtask"].note
    assert link == "../glossary/#queue-microtask"
    assert predict_data(snippet(), trace(), None)["queues"]["sync"][1] == ""


def test_a_predict_block_carries_its_data_and_still_shows_the_whole_run() -> None:
    html = render_snippet(snippet(), trace(), "<pre><code>x</code></pre>", None)
    block = BeautifulSoup(html, "html.parser").select_one("div.looplens")
    assert block is not None
    data = json.loads(str(block["data-looplens-predict"]))
    assert data["order"] == starting_order("micro-vs-macro", [line.text for line in trace().lines])
    # without JavaScript nothing is hidden: the run is there as on any block
    assert block.select_one(".looplens-run table") is not None
    assert block.select("[hidden]") == [] and "display: none" not in str(block)
    plain = render_snippet(snippet(predict=False), trace(), "<pre></pre>", None)
    assert "data-looplens-predict" not in plain


def test_a_question_needs_two_different_lines() -> None:
    check_predictable(snippet(), printing("a", "b"))
    check_predictable(snippet(predict=False), printing("same", "same"))
    with pytest.raises(SnippetError, match=r"docs/a\.md:3: snippet 'q': a \.predict snippet"):
        check_predictable(snippet("q"), printing("same", "same"))
