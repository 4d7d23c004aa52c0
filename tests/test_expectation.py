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


def turns(*lines: tuple[str, str, int] | tuple[str, str, int, str]) -> Trace:
    """A run whose lines (text, queue, turn[, thread]) all went to stdout."""
    printed = tuple(
        PrintedLine(
            text=line[0],
            stream="stdout",
            queue=line[1],
            line=None,
            t=0,
            turn=line[2],
            thread=line[3] if len(line) > 3 else "main",
        )
        for line in lines
    )
    main = Callback(id=0, queue="sync", api="main script", line=None, parent=None, t=0)
    return Trace("javascript", "node test", 0, printed, (main,), ())


def test_a_turn_follows_the_queue_or_stands_alone() -> None:
    body = "\n".join(
        [
            "Start  sync  turn 0",
            "Timeout   timers\tlater turn",
            "Immediate  same turn",
            "Again  check  next turn",
            "  turn 3",
        ]
    )
    assert parse_expectation(body, fence_line=1).lines == (
        ExpectedLine("Start", "sync", 0),
        ExpectedLine("Timeout", "timers", "later turn"),
        ExpectedLine("Immediate", None, "same turn"),
        ExpectedLine("Again", "check", "next turn"),
        ExpectedLine("", None, 3),
    )


def test_turn_words_are_only_read_exactly_after_two_spaces() -> None:
    for text in [
        "wait for the next turn",
        "turn 2",
        "a  turn two",
        "a  Next turn",
        "a  turn  2",
        "a  turn 2 sync",
    ]:
        assert parse_expectation(text, fence_line=1).lines == (ExpectedLine(text),), text
    # The turn comes after the queue: before it, it is text.
    assert parse_expectation("a  next turn  sync", fence_line=1).lines == (
        ExpectedLine("a  next turn", "sync"),
    )


def test_an_ellipsis_may_state_a_turn() -> None:
    assert parse_expectation("...  timers  turn 1", fence_line=1).lines == (
        ExpectedLine("...", "timers", 1),
    )


def test_claims_are_written_back_as_the_author_writes_them() -> None:
    assert ExpectedLine("a", "timers", 2).claims == "timers  turn 2"
    assert ExpectedLine("a", None, "same turn").claims == "same turn"
    assert ExpectedLine("a").claims == ""


def test_stated_turns_that_hold_pass() -> None:
    trace = turns(("start", "sync", 0), ("tick", "microtask", 0), ("t", "timers", 1))
    for body in [
        "start  sync  turn 0\ntick  same turn\nt  timers  next turn",
        "start  same turn\ntick  microtask  turn 0\nt  later turn",
        "start\n...  turn 0\nt  next turn",
        "start\ntick\n...  later turn",
        "...  same turn\nt  later turn",
    ]:
        assert check(trace, parse_expectation(body, fence_line=1)) is None, body


def test_stated_turns_that_do_not_hold_fail() -> None:
    trace = turns(("start", "sync", 0), ("tick", "microtask", 0), ("t", "timers", 2))
    for body in [
        "start  turn 1\ntick\nt",
        "start\ntick  next turn\nt",
        "start\ntick\nt  same turn",
        "start\ntick\nt  next turn",
        "start\ntick  later turn\nt",
        "start\n...  turn 0",
        "...  same turn",
        "next turn  next turn\n...",
    ]:
        assert check(trace, parse_expectation(body, fence_line=1)) is not None, body


def test_a_relative_turn_is_relative_to_the_line_above_the_ellipsis() -> None:
    trace = turns(("a", "sync", 0), ("b", "timers", 1), ("c", "check", 1))
    assert check(trace, parse_expectation("a\n...\nc  later turn", fence_line=1)) is None
    assert check(trace, parse_expectation("a\n...\nc  next turn", fence_line=1)) is None
    assert check(trace, parse_expectation("a\n...\nc  same turn", fence_line=1)) is not None


def test_a_wrong_turn_is_explained_with_its_page_line_and_the_line_before() -> None:
    trace = turns(("start", "sync", 0), ("timeout", "timers", 1), ("immediate", "check", 1))
    body = "start  sync\ntimeout  timers  turn 2\nimmediate  check  later turn"
    mismatch = check(trace, parse_expectation(body, fence_line=10))
    assert mismatch is not None
    assert mismatch.diff.splitlines() == [
        "line 12 'timeout' ran in turn 1, the expectation says turn 2",
        "line 13 'immediate' ran in turn 1, the expectation says a later turn than line 12 "
        "(turn 1)",
    ]
    assert mismatch.actual_block.splitlines() == [
        "start      sync    turn 0",
        "timeout    timers  turn 1",
        "immediate  check   turn 1",
    ]
    pasted = parse_expectation(mismatch.actual_block, fence_line=10)
    assert check(trace, pasted) is None


def test_a_relative_turn_above_the_first_line_is_the_main_scripts() -> None:
    mismatch = check(turns(("t", "timers", 1)), parse_expectation("t  same turn", fence_line=1))
    assert mismatch is not None
    assert mismatch.diff == (
        "line 2 't' ran in turn 1, the expectation says the same turn as the main script (turn 0)"
    )


def test_an_ellipsis_line_in_the_wrong_turn_is_named_by_its_text() -> None:
    trace = turns(("a", "sync", 0), ("b", "timers", 1))
    mismatch = check(trace, parse_expectation("a\n...  same turn", fence_line=1))
    assert mismatch is not None
    assert mismatch.diff == (
        "'b' (one of the lines `...` at line 3 stands for) ran in turn 1, the expectation says "
        "the same turn as line 2 (turn 0)"
    )


def test_a_relative_turn_across_threads_never_holds_and_says_why() -> None:
    trace = turns(("a", "sync", 0), ("w", "sync", 0, "worker 1"))
    mismatch = check(trace, parse_expectation("a\nw  same turn", fence_line=1))
    assert mismatch is not None
    assert "ran on thread 'worker 1' and line 2 on 'main': turns count per thread" in (
        mismatch.diff
    )
    assert check(trace, parse_expectation("a\nw  turn 0", fence_line=1)) is None


def test_other_text_still_gets_a_diff_and_the_block_to_paste_has_turns() -> None:
    trace = turns(("a", "sync", 0), ("b", "timers", 1))
    verdict = verify(snippet("a  turn 0\nc  later turn"), trace)
    assert verdict is not None and verdict.output is not None
    assert "-c" in verdict.output.diff.splitlines() and "+b" in verdict.output.diff.splitlines()
    assert verdict.message().splitlines()[-2:] == ["a  sync    turn 0", "b  timers  turn 1"]


def test_a_verdict_on_turns_alone_reads_as_sentences() -> None:
    verdict = verify(snippet("a\nb  same turn"), turns(("a", "sync", 0), ("b", "timers", 1)))
    assert verdict is not None
    assert verdict.message().splitlines()[:2] == [
        "the real output differs from the expected output (fence at line 9)",
        "line 11 'b' ran in turn 1, the expectation says the same turn as line 10 (turn 0)",
    ]
