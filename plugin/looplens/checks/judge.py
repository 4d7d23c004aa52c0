"""Judge the runs of one snippet: is its printed order fixed, and is it what the author declared?

Nondeterminism is never hidden. An unmarked snippet whose runs printed different orders, or
whose run holds a race that looplens.checks.races recognises, fails with an explanation. A snippet
marked `.nondeterministic` declares every ordering it may print; each run must print one of them,
and the page shows how often each was seen.

Which run the page draws is chosen without looking at counts or timing: the first run (in run
order) that printed the first declared ordering that any run printed.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass

from looplens.checks.expectation import Verdict, check, verify
from looplens.checks.races import Race, recognise_races
from looplens.snippet import Expectation, Snippet
from looplens.trace import MAIN_THREAD, Trace

_DIGITS = re.compile(r"\d+(?:\.\d+)?")

Ordering = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class DeclaredOrdering:
    """One declared ordering of a marked snippet, and how many runs printed it."""

    expectation: Expectation
    #: Runs that printed it (0 is shown too: an ordering the author expects that no run printed).
    seen: int


@dataclass(frozen=True, slots=True)
class OrderingsSeen:
    """What the page shows for a marked snippet."""

    declared: tuple[DeclaredOrdering, ...]
    runs: int
    #: Index into `declared` of the ordering the drawn run printed; None if no run matched one.
    shown: int | None


@dataclass(frozen=True, slots=True)
class Judgement:
    #: The run the page draws.
    shown: Trace
    verdict: Verdict | None
    #: For a marked snippet: the declared orderings with their counts.
    orderings: OrderingsSeen | None = None
    #: How many different schedules (order in which callbacks ran, printing or not) the runs
    #: had. Above 1 with a fixed printed order, the page still shows one run, and says so.
    schedules: int = 1


def printed_order(snippet: Snippet, trace: Trace) -> Ordering:
    """The sequence of (stream, text) a run printed. A measured snippet prints other figures each
    run, so its numbers are left out: only a change of order counts."""
    if snippet.measured:
        return tuple((line.stream, _DIGITS.sub("#", line.text)) for line in trace.lines)
    return tuple((line.stream, line.text) for line in trace.lines)


def schedule(trace: Trace) -> tuple[tuple[str, str, str, int | None, str], ...]:
    """The order in which callbacks were queued, ran and printed, each named by what it is (not
    by its number or time): what the diagram and the player draw."""
    named = {c.id: (c.queue, c.api, c.line, c.thread) for c in trace.callbacks}
    return tuple(
        (event.kind, *named.get(event.callback, ("", "", None, ""))) for event in trace.events
    )


def threads_interleave(trace: Trace) -> bool:
    """A Node run with worker threads: the steps of each thread are in order, but how they fall
    between the main thread's depends on real timing, so another run draws them otherwise (seen
    on three of the six worker examples of the site in eight runs). Python threads never moved."""
    return trace.language == "javascript" and any(
        callback.thread != MAIN_THREAD for callback in trace.callbacks
    )


def judge(snippet: Snippet, runs: Sequence[Trace]) -> Judgement:
    """The verdict on a snippet's runs (one or more) and the run to draw."""
    if not runs:
        raise ValueError(f"{snippet.where}: no run to judge")
    judge_runs = _judge_marked if snippet.nondeterministic else _judge_unmarked
    judged = judge_runs(snippet, runs)
    schedules = len({schedule(run) for run in runs})
    return dataclasses.replace(judged, schedules=schedules) if schedules > 1 else judged


def _judge_unmarked(snippet: Snippet, runs: Sequence[Trace]) -> Judgement:
    shown = runs[0]
    verdict = verify(snippet, shown)
    reasons = list(verdict.reasons) if verdict else []
    changed = _first_change(snippet, runs)
    races = _races(snippet, runs)
    if changed is not None:
        # Same lines in another order, or other lines: say which, the fix differs.
        same_lines = sorted(printed_order(snippet, runs[changed])) == sorted(
            printed_order(snippet, shown)
        )
        what = "printed order" if same_lines else "output"
        reasons.append(
            f"its {what} is not fixed: run {changed + 1} of {len(runs)} printed "
            f"{_describe(runs[changed])} where run 1 printed {_describe(shown)}"
            + (f" ({_race_words(races)})" if races else "")
            + f". {_HOW_TO_MARK}"
        )
    elif races:
        reasons.append(
            f"its printed order can change from run to run: {_race_words(races)}. {_HOW_TO_MARK}"
        )
    if not reasons:
        return Judgement(shown, None)
    return Judgement(shown, Verdict(tuple(reasons), verdict.output if verdict else None))


_HOW_TO_MARK = (
    "A page must not show one order as if it were the only one: if the race is the point, "
    "mark the fence .nondeterministic and declare each possible output in its own {.expect} "
    "fence after it; if not, change the snippet so that its order is fixed (figures measured "
    "on the build machine belong in a fence marked .measured)"
)


def _first_change(snippet: Snippet, runs: Sequence[Trace]) -> int | None:
    first = printed_order(snippet, runs[0])
    for index, run in enumerate(runs[1:], start=1):
        if printed_order(snippet, run) != first:
            return index
    return None


def _races(snippet: Snippet, runs: Sequence[Trace]) -> list[Race]:
    found: dict[str, Race] = {}
    for run in runs:
        for race in recognise_races(run, snippet.source):
            found.setdefault(race.explanation, race)
    return list(found.values())


def _race_words(races: list[Race]) -> str:
    shown = "; ".join(race.explanation for race in races[:3])
    more = len(races) - 3
    return shown + (f"; and {more} more such pair{'s' if more > 1 else ''}" if more > 0 else "")


def _describe(trace: Trace) -> str:
    texts = [line.text for line in trace.lines]
    shown = ", ".join(repr(text) for text in texts[:6])
    return f"[{shown}{', …' if len(texts) > 6 else ''}]"


def _judge_marked(snippet: Snippet, runs: Sequence[Trace]) -> Judgement:
    declared = snippet.declared_orderings
    matched = [_matching(run, declared) for run in runs]
    seen = [sum(1 for index in matched if index == position) for position in range(len(declared))]
    shown_ordering = next((position for position, count in enumerate(seen) if count), None)
    shown_run = matched.index(shown_ordering) if shown_ordering is not None else 0
    summary = OrderingsSeen(
        tuple(map(DeclaredOrdering, declared, seen)),
        len(runs),
        shown_ordering,
    )
    reasons: list[str] = []
    output = None
    stray = next((index for index, position in enumerate(matched) if position is None), None)
    if stray is not None:
        lines = ", ".join(str(expectation.fence_line) for expectation in declared)
        reasons.append(
            f"run {stray + 1} of {len(runs)} printed an ordering that none of its "
            f"{len(declared)} declared orderings (fences at lines {lines}) accepts: if it is "
            "right, declare it in one more {.expect} fence"
        )
        output = check(runs[stray], declared[0])
    exits = sorted({run.exit_code for run in runs if run.exit_code != snippet.exit_code})
    if exits:
        reasons.append(
            f"a run exited with code {exits[0]}, not {snippet.exit_code} "
            f"(if that is the point, add exit={exits[0]} to the fence)"
        )
    verdict = Verdict(tuple(reasons), output) if reasons else None
    return Judgement(runs[shown_run], verdict, summary)


def _matching(run: Trace, declared: Sequence[Expectation]) -> int | None:
    """The first declared ordering that a run printed."""
    for position, expectation in enumerate(declared):
        if check(run, expectation) is None:
            return position
    return None
