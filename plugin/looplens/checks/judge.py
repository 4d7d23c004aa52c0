"""Judge the runs of one snippet: is its printed order fixed, and is it what the author declared?

Nondeterminism is never hidden. An unmarked snippet whose runs printed different orders, or
whose run holds an order that a clock decided with less than the page's minimum margin to spare
(see looplens.margins), fails with an explanation. A snippet
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
from looplens.checks.race_words import race_words
from looplens.margins import DEFAULT_MIN_MARGIN_MS, disturbance, races
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


def judge(
    snippet: Snippet, runs: Sequence[Trace], min_margin_ms: float = DEFAULT_MIN_MARGIN_MS
) -> Judgement:
    """The verdict on a snippet's runs (one or more) and the run to draw; `min_margin_ms` is the
    site's smallest margin for a clock's decision (the fence's min_margin_ms= wins)."""
    if not runs:
        raise ValueError(f"{snippet.where}: no run to judge")
    margin = snippet.min_margin_ms or min_margin_ms
    judged = (
        _judge_marked(snippet, runs)
        if snippet.nondeterministic
        else _judge_unmarked(snippet, runs, margin)
    )
    schedules = len({schedule(run) for run in runs})
    return dataclasses.replace(judged, schedules=schedules) if schedules > 1 else judged


def _judge_unmarked(snippet: Snippet, runs: Sequence[Trace], min_margin_ms: float) -> Judgement:
    shown = runs[0]
    verdict = verify(snippet, shown)
    reasons = list(verdict.reasons) if verdict else []
    changed = _first_change(snippet, runs)
    found = _races(snippet, runs, min_margin_ms)
    if changed is not None:
        # Same lines in another order, or other lines: say which, the fix differs.
        same_lines = sorted(printed_order(snippet, runs[changed])) == sorted(
            printed_order(snippet, shown)
        )
        what = "printed order" if same_lines else "output"
        reasons.append(
            f"its {what} is not fixed: run {changed + 1} of {len(runs)} printed "
            f"{_describe(runs[changed])} where run 1 printed {_describe(shown)}"
            + (f" ({found})" if found else "")
            + f". {_HOW_TO_MARK}"
        )
    elif found:
        reasons.append(f"its printed order can change from run to run: {found}. {_HOW_TO_MARK}")
    reasons.extend(_still_disturbed(runs, min_margin_ms))
    if not reasons:
        return Judgement(shown, None)
    return Judgement(shown, Verdict(tuple(reasons), verdict.output if verdict else None))


_HOW_TO_MARK = (
    "A page must not show one order as if it were the only one: if the race is the point, "
    "mark the fence .nondeterministic and declare each possible output in its own {.expect} "
    "fence after it; if not, change the snippet so that its order is fixed: let the loop's "
    "rules decide it (schedule one callback from the other) or give the clock more room than "
    "the minimum margin (figures measured on the build machine belong in a fence marked "
    ".measured)"
)


def _first_change(snippet: Snippet, runs: Sequence[Trace]) -> int | None:
    first = printed_order(snippet, runs[0])
    for index, run in enumerate(runs[1:], start=1):
        if printed_order(snippet, run) != first:
            return index
    return None


def _races(snippet: Snippet, runs: Sequence[Trace], min_margin_ms: float) -> str:
    """The races of the runs, in words (the first run that has any), or ""."""
    for run in runs:
        found = races(run, min_margin_ms)
        if found:
            return race_words(run, found, min_margin_ms, snippet.source)
    return ""


def _still_disturbed(runs: Sequence[Trace], min_margin_ms: float) -> list[str]:
    """A run the machine disturbed on every attempt proves nothing: say so, never pass it."""
    for run in runs:
        stalled = disturbance(run, min_margin_ms)
        if stalled is not None and stalled.margin_ms < min_margin_ms:
            return [
                f"the machine's load disturbed every run: an order was decided with "
                f"{stalled.margin_ms:g} ms to spare while the process waited {stalled.stall_ms:g} "
                "ms to run, so this build cannot tell whether it is a race; build again on a "
                "less loaded machine"
            ]
    return []


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
