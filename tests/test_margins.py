"""Margins prove orders: a clock decision under the page's minimum is a race, one that a stall may
have decided is a disturbed run (run again, never failed for it, never passed on it), and the
minimum comes from mkdocs.yml or the fence."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from looplens.checks.judge import judge
from looplens.errors import SnippetError
from looplens.fences.collect import collect_snippets
from looplens.margins import (
    DEFAULT_MIN_MARGIN_MS,
    MAX_ATTEMPTS,
    disturbance,
    is_disturbed,
    is_race,
    races,
)
from looplens.render.block import render_snippet
from looplens.snippet import Snippet
from looplens.trace import Callback, ClockDecision, PrintedLine, Trace
from looplens.tracing import run as run_module

PAGE = """\
```js {#pair .trace%s}
setTimeout(() => console.log("timeout"), 100);
setImmediate(() => console.log("immediate"));
```
"""


def snippet(options: str = "") -> Snippet:
    (found,) = collect_snippets(PAGE % options, "docs/page.md", [])
    return found


def trace(*decisions: ClockDecision) -> Trace:
    """Main script (0) scheduling an immediate (1, line 2) and a timer (2, line 1)."""
    return Trace(
        "javascript",
        "Node.js test",
        0,
        (
            PrintedLine("immediate", "stdout", "check", 2, 0.0, 1, turn=1),
            PrintedLine("timeout", "stdout", "timers", 1, 100.0, 2, turn=2),
        ),
        (
            Callback(0, "sync", "main script", None, None, 0.0),
            Callback(1, "check", "setImmediate", 2, 0, 0.0, turn=1),
            Callback(2, "timers", "setTimeout", 1, 0, 100.0, turn=2),
        ),
        (),
        decisions=decisions,
    )


def decision(margin: float, stall: float = 0.0) -> ClockDecision:
    return ClockDecision(1, 2, "timer", margin, stall)


@pytest.mark.parametrize(
    ("margin", "stall", "race", "disturbed"),
    [
        (99.0, 0.0, False, False),  # steady: decided with room to spare
        (0.4, 0.0, True, False),  # a race on a quiet machine
        (0.4, 0.6, True, False),  # a stall under the scheduler's granularity decides nothing
        (3.0, 40.0, False, True),  # a stall long enough to have decided it
        (12.0, 3.0, False, False),  # steady even if the stall ate into it
        (8.0, 3.0, False, True),  # the stall may have pushed a steady margin under the minimum
        (99.0, 120.0, False, True),  # a stall longer than the margin may have flipped the order
    ],
)
def test_a_decision_is_steady_racy_or_disturbed(
    margin: float, stall: float, race: bool, disturbed: bool
) -> None:
    assert is_race(decision(margin, stall), DEFAULT_MIN_MARGIN_MS) is race
    assert is_disturbed(decision(margin, stall), DEFAULT_MIN_MARGIN_MS) is disturbed


def test_races_come_closest_first() -> None:
    found = races(trace(decision(4.0), decision(0.5), decision(50.0)), DEFAULT_MIN_MARGIN_MS)
    assert [d.margin_ms for d in found] == [0.5, 4.0]


def test_a_race_fails_an_unmarked_snippet_naming_both_callbacks_lines_and_margin() -> None:
    verdict = judge(snippet(), [trace(decision(0.7))]).verdict
    assert verdict is not None
    message = verdict.message()
    assert "setImmediate callback of line 2 ran before the setTimeout callback of line 1" in message
    assert "0.7 ms to spare" in message and "needs 10 ms" in message
    assert ".nondeterministic" in message


def test_a_steady_decision_passes_and_the_caption_says_it_was_the_clock() -> None:
    found = snippet()
    shown = trace(decision(98.6))
    assert judge(found, [shown]).verdict is None
    caption = render_snippet(found, shown, "<pre></pre>", None)
    assert "decided by the clock" in caption
    assert "<span data-looplens-measured>99 ms</span> to spare" in caption


def test_an_order_no_clock_decided_says_the_rules_forced_it() -> None:
    assert "every order forced by the loop's rules" in render_snippet(
        snippet(), trace(), "<pre></pre>", None
    )


def test_the_fence_sets_its_own_minimum_margin() -> None:
    assert judge(snippet(' min_margin_ms="120"'), [trace(decision(99.0))]).verdict is not None
    assert judge(snippet(' min_margin_ms="5"'), [trace(decision(7.0))]).verdict is None
    assert judge(snippet(), [trace(decision(7.0))], min_margin_ms=5.0).verdict is None


@pytest.mark.parametrize("value", ["0", "-3", "ten", "1e9"])
def test_a_bad_minimum_margin_names_the_page_and_the_snippet(value: str) -> None:
    with pytest.raises(SnippetError, match=r"docs/page.md:1: snippet 'pair': min_margin_ms"):
        snippet(f' min_margin_ms="{value}"')


def test_a_disturbed_run_runs_again_and_is_said(monkeypatch: pytest.MonkeyPatch) -> None:
    runs: Iterator[Trace] = iter([trace(decision(2.0, 95.0)), trace(decision(99.0, 0.2))])
    monkeypatch.setattr(run_module, "trace_snippet", lambda *_: next(runs))
    said: list[str] = []
    (kept,) = run_module.trace_runs(snippet(), run_module.DEFAULT_LIMITS, 1, report=said.append)
    assert kept.decisions[0].margin_ms == 99.0
    assert len(said) == 1 and "docs/page.md:1: snippet 'pair': run disturbed" in said[0]


def test_a_run_disturbed_every_time_is_never_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[int] = []

    def disturbed_run(*_: object) -> Trace:
        attempts.append(1)
        return trace(decision(2.0, 95.0))

    monkeypatch.setattr(run_module, "trace_snippet", disturbed_run)
    runs = run_module.trace_runs(snippet(), run_module.DEFAULT_LIMITS, 1)
    assert len(attempts) == MAX_ATTEMPTS
    assert disturbance(runs[0], DEFAULT_MIN_MARGIN_MS) is not None
    verdict = judge(snippet(), runs).verdict
    assert verdict is not None and "disturbed every run" in verdict.message()


def test_decisions_survive_the_json_round_trip() -> None:
    shown = trace(decision(3.5, 1.5))
    again = Trace.from_json(shown.to_json())
    assert again == shown
    assert dataclasses.asdict(again)["lines"][1]["turn"] == 2


def test_turns_a_clock_counted_mark_the_block_as_measured_and_the_caption_says_so() -> None:
    found = snippet()
    steady = render_snippet(found, trace(), "<pre></pre>", None)
    counted = render_snippet(
        found, dataclasses.replace(trace(), turns_measured=(2,)), "<pre></pre>", None
    )
    assert "data-looplens-measured" not in steady.split(">", 1)[0]
    assert "data-looplens-measured" in counted.split(">", 1)[0]
    assert "turns as this run counted them" in counted
    assert "turns as this run counted them" not in steady


def test_measured_turns_survive_the_json_round_trip() -> None:
    shown = dataclasses.replace(trace(), turns_measured=(1, 2))
    assert Trace.from_json(shown.to_json()).turns_measured == (1, 2)
