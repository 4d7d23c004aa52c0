"""One snippet judged on each runtime it runs on, and its runs compared between them.

Each runtime's runs are judged as one runtime's always were (checks.judge), against the
expected outputs for that runtime (Snippet.on_runtime). Then each run is compared with the
primary runtime's (checks.runtimes): a difference the page does not declare fails that runtime.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from looplens.checks.expectation import Verdict
from looplens.checks.judge import Judgement, judge
from looplens.checks.runtimes import RuntimeDifference, declared, differences, undeclared
from looplens.margins import DEFAULT_MIN_MARGIN_MS
from looplens.runtimes.report import releases
from looplens.runtimes.runtime import Runtime
from looplens.snippet import Snippet
from looplens.trace import Trace


@dataclass(frozen=True, slots=True)
class RuntimeJudgement:
    runtime: Runtime
    judgement: Judgement
    #: How its shown run differs from the primary runtime's; None: the same (or not compared).
    difference: RuntimeDifference | None = None


def judge_across(
    snippet: Snippet,
    runs: Sequence[tuple[Runtime, Sequence[Trace]]],
    min_margin_ms: float = DEFAULT_MIN_MARGIN_MS,
) -> tuple[RuntimeJudgement, ...]:
    """Each runtime's judgement, in the order of `runs` (the primary runtime's first)."""
    judged = [
        (runtime, judge(snippet.on_runtime(runtime.name), traces, min_margin_ms))
        for runtime, traces in runs
    ]
    shown = [(runtime, judgement.shown) for runtime, judgement in judged]
    found = differences(snippet, shown)
    results = []
    primary, primary_judgement = judged[0]
    for (runtime, judgement), difference in zip(judged, found, strict=True):
        # Compared with a run that is itself wrong, a difference says nothing more.
        if (
            difference is not None
            and primary_judgement.verdict is None
            and not declared(snippet, primary, runtime)
        ):
            judgement = _failed(judgement, undeclared(primary, runtime, difference))
        results.append(RuntimeJudgement(runtime, judgement, difference))
    return tuple(results)


def _failed(judgement: Judgement, reason: str) -> Judgement:
    verdict = judgement.verdict
    reasons = (*(verdict.reasons if verdict else ()), reason)
    output = verdict.output if verdict else None
    return dataclasses.replace(judgement, verdict=Verdict(reasons, output))


def failure_messages(snippet: Snippet, judged: Sequence[RuntimeJudgement]) -> list[str]:
    """What the build says about a snippet's failures: where every runtime failed (a wrong
    expectation, a race), the primary runtime's message once, naming the others; else a message
    for each runtime that failed, naming it."""
    failed = [result for result in judged if result.judgement.verdict is not None]
    if not failed:
        return []
    if len(failed) == len(judged):
        first, *others = failed
        assert first.judgement.verdict is not None
        message = f"{snippet.where}: {first.judgement.verdict.message()}"
        if others and any(_message(other) != _message(first) for other in others):
            named = releases(first.runtime.name.kind, (other.runtime.name for other in others))
            message += (
                f"\nIt fails on {named} too: `looplens trace FILE --runtime "
                f"{others[0].runtime.name}` shows that run"
            )
        return [message]
    return [
        f"{snippet.where} on {result.runtime.name.title}: {_message(result)}" for result in failed
    ]


def _message(result: RuntimeJudgement) -> str:
    verdict = result.judgement.verdict
    return verdict.message() if verdict is not None else ""
