"""The player's tab: the trace it embeds, and the code lines it highlights."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from bs4 import BeautifulSoup

from looplens.render.player import player_data, render_player
from looplens.trace import PrintedLine, Trace

GOLDEN = Path(__file__).parent / "golden"
SOURCE = """\
console.log("Start");
setTimeout(() => console.log("Timeout"), 0);
Promise.resolve().then(() => console.log("Promise"));
console.log("End");
"""


def trace() -> Trace:
    return Trace.from_json((GOLDEN / "micro-vs-macro.trace.json").read_text(encoding="utf-8"))


def test_the_data_is_the_trace_in_short_form() -> None:
    data = player_data(trace())
    assert data["queues"] == ["microtask", "timers"]
    # queue, api, line, due time, turn
    assert data["callbacks"]["1"] == ["timers", "setTimeout", 2, 1, 1]
    assert data["lines"][2] == ["Promise", "stdout"]
    assert data["events"][:3] == [["r", 0, 0], ["p", 0, 0, 0], ["q", 1, 0]]


def test_a_callback_off_the_main_thread_names_its_thread() -> None:
    data = player_data(trace())
    assert len(data["callbacks"]["1"]) == 5
    golden = (GOLDEN / "worker-and-stderr.trace.json").read_text(encoding="utf-8")
    threads = [cb[5] for cb in player_data(Trace.from_json(golden))["callbacks"].values() if cb[5:]]
    assert threads, "the worker case has a callback on another thread"


def test_printed_markup_stays_text_in_the_embedded_trace() -> None:
    # Either quote, a tag, a reference that must stay as written, a comment's start.
    evil = "'\"></div><script>alert(1)</script> &amp; & <!--"
    printed = replace(trace(), lines=(PrintedLine(evil, "stdout", "sync", None, 0),))
    soup = BeautifulSoup(render_player(SOURCE, printed), "html.parser")
    assert soup.select("script") == []
    player = soup.select_one(".looplens-player")
    assert player is not None
    assert json.loads(str(player["data-trace"]))["lines"] == [[evil, "stdout"]]


def code_lines(player_html: str) -> list[str]:
    """The player's code, one entry of highlighted markup per line, as the page carries it."""
    player = BeautifulSoup(player_html, "html.parser").select_one(".looplens-player")
    assert player is not None
    lines = json.loads(str(player["data-code"]))
    assert isinstance(lines, list)
    return [str(line) for line in lines]


def test_the_code_is_one_balanced_entry_per_line_and_no_markup_of_its_own() -> None:
    source = "const s = `a\nb`;\nconsole.log(s);\n"
    player_html = render_player(source, trace())
    lines = code_lines(player_html)
    # a token spanning two lines is split into balanced halves, one in each line
    texts = [BeautifulSoup(line, "html.parser").get_text() for line in lines]
    assert texts == ["const s = `a", "b`;", "console.log(s);"]
    assert all(str(BeautifulSoup(line, "html.parser")) == line for line in lines)
    # The page's code block is the one the search index reads; the player draws its copy.
    assert BeautifulSoup(player_html, "html.parser").select("code, span") == []


def test_the_blocks_own_highlighted_lines_are_reused_when_they_fit() -> None:
    code_html = (
        '<div class="highlight"><pre><span></span><code><b>one</b>\n<i>two</i>\n</code></pre></div>'
    )
    assert code_lines(render_player("a\nb\n", trace(), code_html)) == ["<b>one</b>", "<i>two</i>"]
    # Another layout (or another number of lines): the code is highlighted again.
    lines = code_lines(render_player("a\nb\nc\n", trace(), code_html))
    assert [BeautifulSoup(line, "html.parser").get_text() for line in lines] == ["a", "b", "c"]


def test_leading_blank_lines_keep_their_numbers() -> None:
    """The trace's line numbers count every line of the source, blank ones at the top too."""
    lines = code_lines(render_player("\n\nconsole.log(1);\n", trace()))
    assert [BeautifulSoup(line, "html.parser").get_text() for line in lines] == [
        "",
        "",
        "console.log(1);",
    ]


def test_lines_with_ids_of_their_own_are_highlighted_again() -> None:
    """Line spans or anchors carry ids: the player's copy must not repeat them in the page."""
    code_html = (
        '<div class="highlight"><pre><span></span><code><span id="__span-0-1"><b>one</b>\n</span>'
        '<span id="__span-0-2"><i>two</i>\n</span></code></pre></div>'
    )
    lines = code_lines(render_player("a\nb\n", trace(), code_html))
    assert [BeautifulSoup(line, "html.parser").get_text() for line in lines] == ["a", "b"]
    assert not any(" id=" in line for line in lines)
