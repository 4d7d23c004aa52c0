"""What a Python trace proves about its order: which pairs of printing callbacks a clock ordered
(a handover from a thread, a timer), with what margin, and which orders asyncio's rules force.

The runs are built by hand, as the reader builds them from the tracer's records: a chain of
callbacks from the main script, with when each was queued and started (µs on the loop's clock).
"""

from __future__ import annotations

from looplens.tracing.python.margins import COMPLETION_COLLECTOR, find_decisions
from looplens.tracing.python.runs import Run
from looplens.tracing.python.turns import unsettled_turns

MAIN = Run("sync", "main script", None, None, 0.0, user=True, ran=True)


def run(
    queue: str,
    parent: Run,
    queued: int,
    started: int,
    *,
    turn: int = 1,
    printed: bool = True,
    delay_ms: float = 0.0,
    thread: str = "main",
    api: str = "call_soon",
) -> Run:
    made = Run(queue, api, 1, parent, 0.0, user=True, ran=True, printed=printed)
    made.thread = made.queued_thread = thread
    made.queued_us, made.started_us, made.turn, made.delay_ms = queued, started, turn, delay_ms
    return made


def handover(submitted: int, arrived: int, *, started: int | None = None) -> Run:
    """Executor work submitted at `submitted` by the main script, whose result a callback hands
    to the loop at `arrived`; that callback prints."""
    work = run("thread", MAIN, submitted, submitted + 10, thread="asyncio_0", printed=False)
    back = run("callback", work, arrived, started or arrived + 50, api="call_soon_threadsafe")
    back.queued_thread = "asyncio_0"
    return back


def test_two_thread_handovers_close_together_are_a_race_with_their_gap_as_margin() -> None:
    first, second = handover(0, 10_000), handover(0, 10_600, started=10_700)
    ((x, y, kind, margin, _),) = find_decisions([first, second])
    assert (x, y, kind) == (first, second, "thread")
    assert margin == 0.6


def test_work_submitted_after_the_first_callback_started_is_caused_by_it() -> None:
    first = handover(0, 10_000)
    second = handover(20_000, 30_000)
    assert find_decisions([first, second]) == []


def test_two_timers_run_in_due_time_order() -> None:
    early = run("timer", MAIN, 0, 10_000, delay_ms=10)
    late = run("timer", MAIN, 5, 10_100, delay_ms=10)
    assert find_decisions([early, late]) == []


def test_a_timer_set_in_the_pass_that_queued_the_other_cannot_overtake_it() -> None:
    step = run("task", MAIN, 0, 100, printed=False)
    soon = run("callback", step, 150, 300, turn=2)
    timer = run("timer", step, 120, 400, turn=2, delay_ms=0)
    assert find_decisions([soon, timer]) == []


def test_a_timer_against_a_handover_is_measured_from_the_timer_running_late() -> None:
    # The timer was due at 10 ms and ran at 12 ms (its latest entry); the thread's result came
    # at 40 ms.
    timer = run("timer", MAIN, 0, 12_000, delay_ms=10)
    back = handover(0, 40_000)
    ((_, _, kind, margin, _),) = find_decisions([timer, back])
    assert kind == "thread" and margin == 28.0


def test_a_completion_collector_orders_results_even_when_one_callback_prints_them() -> None:
    collect_a = handover(0, 10_000)
    collect_b = handover(0, 10_300)
    collect_a.api = collect_b.api = COMPLETION_COLLECTOR
    collect_a.printed = collect_b.printed = False
    ((_, _, kind, margin, _),) = find_decisions([collect_a, collect_b])
    assert kind == "thread" and margin == 0.3


def test_every_handover_may_land_in_another_pass_and_nothing_else_is_marked() -> None:
    busy = run("task", MAIN, 0, 9_000)
    close, far = handover(0, 9_500), handover(0, 80_000)
    timer = run("timer", MAIN, 0, 100_000, delay_ms=100)
    assert unsettled_turns([busy, close, timer, far]) == [close, far]


def test_steps_of_one_task_run_in_program_order_whatever_woke_them() -> None:
    earlier = run("task", MAIN, 0, 500)
    woken = handover(0, 600)
    earlier.task = woken.task = 1
    assert find_decisions([earlier, woken]) == []
    woken.task = 2
    assert len(find_decisions([earlier, woken])) == 1
