"""The player's tab: the trace it embeds, and the code lines it highlights."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from bs4 import BeautifulSoup

from looplens.render_player import player_data, render_player
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
    assert data["callbacks"]["1"] == ["timers", "setTimeout", 2, 1]
    assert data["lines"][2] == ["Promise", "stdout"]
    assert data["events"][:3] == [["r", 0, 0], ["p", 0, 0, 0], ["q", 1, 0]]


def test_a_callback_off_the_main_thread_names_its_thread() -> None:
    data = player_data(trace())
    assert len(data["callbacks"]["1"]) == 4
    golden = (GOLDEN / "worker-and-stderr.trace.json").read_text(encoding="utf-8")
    threads = [cb[4] for cb in player_data(Trace.from_json(golden))["callbacks"].values() if cb[4:]]
    assert threads, "the worker case has a callback on another thread"


def test_printed_markup_stays_text_in_the_embedded_trace() -> None:
    evil = '"></div><script>alert(1)</script> & <!--'
    printed = replace(trace(), lines=(PrintedLine(evil, "stdout", "sync", None, 0),))
    soup = BeautifulSoup(render_player(SOURCE, printed), "html.parser")
    assert soup.select("script") == []
    player = soup.select_one(".looplens-player")
    assert player is not None
    assert json.loads(str(player["data-trace"]))["lines"] == [[evil, "stdout"]]


def test_the_code_is_one_numbered_element_per_line() -> None:
    source = "const s = `a\nb`;\nconsole.log(s);\n"
    soup = BeautifulSoup(render_player(source, trace()), "html.parser")
    lines = soup.select(".looplens-line")
    assert [line["data-line"] for line in lines] == ["1", "2", "3"]
    # a token spanning two lines is split into balanced halves, one in each line
    assert [line.get_text() for line in lines] == ["const s = `a", "b`;", "console.log(s);"]


def test_the_blocks_own_highlighted_lines_are_reused_when_they_fit() -> None:
    code_html = (
        '<div class="highlight"><pre><span></span><code><b>one</b>\n<i>two</i>\n</code></pre></div>'
    )
    player = BeautifulSoup(render_player("a\nb\n", trace(), code_html), "html.parser")
    assert [str(line) for line in player.select(".looplens-line > *")] == [
        "<b>one</b>",
        "<i>two</i>",
    ]
    # Another layout (or another number of lines): the code is highlighted again.
    player = BeautifulSoup(render_player("a\nb\nc\n", trace(), code_html), "html.parser")
    assert [line.get_text() for line in player.select(".looplens-line")] == ["a", "b", "c"]
