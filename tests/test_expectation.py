"""Expected output as written by authors, checked against a run."""

from __future__ import annotations

import dataclasses

from looplens.checks.expectation import check, format_block, verify
from looplens.fences.expected_output import parse_expectation
from looplens.snippet import ExpectedLine, Snippet
from looplens.trace import Callback, PrintedLine, Trace


def run(*lines: tuple[str, str, str]) -> Trace:
    printed = tuple(
        PrintedLine(text=text, stream=stream, queue=queue, line=None, t=0)  # type: ignore[arg-type]
        for text, stream, queue in lines
    )
    main = Callback(id=0, queue="sync", api="main script", line=None, parent=None, t=0)
    return Trace("javascript", "node test", 0, printed, (main,), ())


def test_a_queue_needs_two_spaces_before_it() -> None:
    expectation = parse_expectation("Start     sync\nin sync\nTimer\ttimers", fence_line=1)
    assert expectation.lines == (
        ExpectedLine("Start", "sync"),
        ExpectedLine("in sync"),
        ExpectedLine("Timer", "timers"),
    )


def test_an_unknown_last_word_stays_text() -> None:
    assert parse_expectation("a  banana", fence_line=1).lines == (ExpectedLine("a  banana"),)


def test_matching_output_passes_and_unstated_queues_are_not_compared() -> None:
    trace = run(("Start", "stdout", "sync"), ("Promise", "stdout", "microtask"))
    assert check(trace, parse_expectation("Start  sync\nPromise", fence_line=1)) is None


def test_a_wrong_queue_fails_with_a_diff_naming_both_queues() -> None:
    trace = run(("Start", "stdout", "sync"), ("Promise", "stdout", "microtask"))
    mismatch = check(trace, parse_expectation("Start  sync\nPromise  timers", fence_line=1))
    assert mismatch is not None
    assert "-Promise  [timers]" in mismatch.diff
    assert "+Promise  [microtask]" in mismatch.diff
    assert " Start  [sync]" in mismatch.diff


def test_a_wrong_order_fails() -> None:
    trace = run(("b", "stdout", "sync"), ("a", "stdout", "sync"))
    mismatch = check(trace, parse_expectation("a\nb", fence_line=1))
    assert mismatch is not None
    assert mismatch.actual_block == "b  sync\na  sync"


def test_stream_restricts_the_comparison() -> None:
    trace = run(("out", "stdout", "sync"), ("noise", "stderr", "sync"))
    assert check(trace, parse_expectation("out", fence_line=1, streams=("stdout",))) is None
    assert check(trace, parse_expectation("out", fence_line=1)) is not None


def test_an_empty_expectation_means_no_output() -> None:
    assert check(run(), parse_expectation("", fence_line=1)) is None
    assert check(run(("x", "stdout", "sync")), parse_expectation("", fence_line=1)) is not None


def test_format_block_aligns_queues() -> None:
    trace = run(("Start", "stdout", "sync"), ("Promise", "stdout", "microtask"))
    assert format_block(trace.lines) == "Start    sync\nPromise  microtask"


def test_an_ellipsis_line_stands_for_any_number_of_lines() -> None:
    trace = run(
        ("main done", "stdout", "task"),
        ("Traceback (most recent call last):", "stderr", "sync"),
        ('  File "x.py", line 3', "stderr", "sync"),
        ("ValueError: lost", "stderr", "sync"),
    )
    assert check(trace, parse_expectation("main done\n...\nValueError: lost", fence_line=1)) is None
    assert check(trace, parse_expectation("...\nValueError: lost", fence_line=1)) is None
    assert check(trace, parse_expectation("main done\n...", fence_line=1)) is None
    assert check(trace, parse_expectation("main done\n...\nmain done", fence_line=1)) is not None
    assert check(trace, parse_expectation("...  sync", fence_line=1)) is not None, (
        "an ellipsis with a queue only stands for lines of that queue"
    )
    assert check(trace, parse_expectation("main done\n...  sync", fence_line=1)) is None
    assert check(run(), parse_expectation("...", fence_line=1)) is None


def snippet(expected: str | None, exit_code: int = 0) -> Snippet:
    expectation = parse_expectation(expected, fence_line=9) if expected is not None else None
    return Snippet("s", "javascript", "s.js", "", "docs/p.md", 3, expectation, exit_code=exit_code)


def test_verify_passes_a_run_that_is_what_the_fence_says() -> None:
    trace = run(("x", "stdout", "sync"))
    assert verify(snippet("x  sync"), trace) is None
    assert verify(snippet(None), trace) is None


def test_an_unexpected_exit_code_fails_even_without_expected_output() -> None:
    crashed = dataclasses.replace(run(("boom", "stderr", "sync")), exit_code=1)
    verdict = verify(snippet(None), crashed)
    assert verdict is not None and verdict.output is None
    assert verdict.message() == (
        "the snippet exited with code 1, not 0 (if that is the point, add exit=1 to the fence)"
    )
    assert verify(snippet(None, exit_code=1), crashed) is None


def test_a_verdict_message_has_reason_diff_and_the_block_to_paste() -> None:
    verdict = verify(snippet("y  sync"), run(("x", "stdout", "sync")))
    assert verdict is not None
    lines = verdict.message().splitlines()
    assert lines[0] == "the real output differs from the expected output (fence at line 9)"
    assert "-y  [sync]" in lines and "+x  [sync]" in lines
    assert lines[-2:] == ["If the real output is right, the expectation reads:", "x  sync"]
