"""Races recognised from one run, and the runs that prove each rule: a snippet that really flips,
and one that looks the same but whose order is fixed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from looplens.checks.judge import judge
from looplens.checks.races import Race, recognise_races
from looplens.runtimes.matrix import default_runtime
from looplens.sandbox.environment import python_environment
from looplens.snippet import Language, Snippet
from looplens.tracing.run import DEFAULT_LIMITS, trace_runs, trace_snippet

_FILES: dict[Language, str] = {"javascript": "race.js", "python": "race.py"}


def races(language: Language, source: str) -> tuple[Race, ...]:
    snippet = Snippet("race", language, _FILES[language], source, "docs/race.md", 1)
    return recognise_races(trace_snippet(snippet), source)


def orders_seen(tmp_path: Path, language: Language, source: str, *, runs: int) -> set[str]:
    """The outputs of plain runs (no tracer), stopping as soon as two differ."""
    path = tmp_path / _FILES[language]
    path.write_text(source)
    command = [
        sys.executable if language == "python" else str(default_runtime("javascript").executable),
        str(path),
    ]
    environment = python_environment() if language == "python" else None
    seen: set[str] = set()
    for _ in range(runs):
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=30, check=True, env=environment
        )
        seen.add(done.stdout)
        if len(seen) > 1:
            break
    return seen


TIMER_AND_IMMEDIATE = """\
setTimeout(() => console.log("timeout"), 0);
setImmediate(() => console.log("immediate"));
"""


def test_timer_against_immediate_in_the_main_script_is_a_race() -> None:
    (race,) = races("javascript", TIMER_AND_IMMEDIATE)
    assert race.rule == "timer-vs-immediate"
    assert (race.first.api, race.first.line) == ("setTimeout", 1)
    assert (race.second.api, race.second.line) == ("setImmediate", 2)
    assert "setTimeout at line 1" in race.explanation
    assert "setImmediate at line 2" in race.explanation
    assert "from the main script" in race.explanation


def test_timer_against_immediate_queued_from_a_promise_of_the_main_script_is_a_race() -> None:
    source = (
        "Promise.resolve().then(() => setTimeout(() => console.log('timeout'), 1));\n"
        "process.nextTick(() => setImmediate(() => console.log('immediate')));\n"
    )
    (race,) = races("javascript", source)
    assert (race.first.line, race.second.line) == (1, 2)


def test_timer_against_immediate_from_an_immediate_is_a_race() -> None:
    source = (
        "setImmediate(() => {\n"
        "  setTimeout(() => console.log('timeout'), 0);\n"
        "  setImmediate(() => console.log('immediate'));\n"
        "});\n"
    )
    (race,) = races("javascript", source)
    assert (race.first.line, race.second.line) == (2, 3)
    assert "from the setImmediate at line 1 callback" in race.explanation


@pytest.mark.parametrize(
    "source",
    [
        # In an I/O callback the check phase comes next: the immediate always wins.
        "require('fs').readFile(__filename, () => {\n"
        "  setTimeout(() => console.log('timeout'), 0);\n"
        "  setImmediate(() => console.log('immediate'));\n"
        "});\n",
        # In a timer callback the new timer waits for the next turn: the immediate wins.
        "setTimeout(() => {\n"
        "  setTimeout(() => console.log('timeout'), 0);\n"
        "  setImmediate(() => console.log('immediate'));\n"
        "}, 5);\n",
        # A 5 ms timer is not due on the loop's first turn.
        "setTimeout(() => console.log('timeout'), 5);\n"
        "setImmediate(() => console.log('immediate'));\n",
        # Nothing prints from the timer: no order of output can change.
        "setTimeout(() => {}, 0);\nsetImmediate(() => console.log('immediate'));\n",
    ],
    ids=["in-io-callback", "in-timer", "longer-delay", "silent-timer"],
)
def test_look_alikes_with_a_fixed_order_are_not_races(source: str, tmp_path: Path) -> None:
    assert races("javascript", source) == ()


def test_the_io_look_alike_really_keeps_its_order(tmp_path: Path) -> None:
    source = (
        "require('fs').readFile(__filename, () => {\n"
        "  setTimeout(() => console.log('timeout'), 0);\n"
        "  setImmediate(() => console.log('immediate'));\n"
        "});\n"
    )
    assert orders_seen(tmp_path, "javascript", source, runs=20) == {"immediate\ntimeout\n"}


PBKDF2 = """\
const crypto = require("node:crypto");
for (const n of [1, 2, 3, 4]) {
  crypto.pbkdf2("secret", "salt", 20000, 64, "sha512", () => console.log(`hash ${n}`));
}
"""


def test_thread_pool_completions_pending_together_are_races() -> None:
    found = races("javascript", PBKDF2)
    assert {race.rule for race in found} == {"thread-pool"}
    assert len(found) == 6  # every pair of the four hashes
    assert "crypto.pbkdf2 at line 3" in found[0].explanation


def test_thread_pool_completions_really_flip(tmp_path: Path) -> None:
    # Four equal hashes on a 2-core machine finish in any order; 30 runs all alike would mean
    # the rule flags an order that is fixed.
    assert len(orders_seen(tmp_path, "javascript", PBKDF2, runs=30)) > 1


@pytest.mark.parametrize(
    "source",
    [
        # Each hash starts in the callback of the one before: never two pending at once.
        "const crypto = require('node:crypto');\n"
        "crypto.pbkdf2('a', 'b', 1000, 64, 'sha512', () => {\n"
        "  console.log('first');\n"
        "  crypto.pbkdf2('a', 'b', 1000, 64, 'sha512', () => console.log('second'));\n"
        "});\n",
        # A pool of one thread is a queue: jobs finish in submission order.
        'process.env.UV_THREADPOOL_SIZE = "1";\n' + PBKDF2,
    ],
    ids=["chained", "pool-of-one"],
)
def test_thread_pool_look_alikes_are_not_races(source: str) -> None:
    assert races("javascript", source) == ()


EXECUTOR = """\
import asyncio
import time


def work(n):
    time.sleep(0.01)
    return n


async def one(n):
    print("done", await asyncio.to_thread(work, n))


async def main():
    await asyncio.gather(one(1), one(2), one(3))


asyncio.run(main())
"""


def test_python_threads_that_finish_at_the_same_time_race() -> None:
    found = races("python", EXECUTOR)
    assert [race.rule for race in found] == ["executor"] * 3
    assert (found[0].first.api, found[0].first.line) == ("to_thread", 11)


@pytest.mark.parametrize(
    "source",
    [
        # One task awaits its threads one after the other: its steps are sequential.
        "import asyncio\n"
        "def work(n):\n"
        "    return sum(range(100000 * n))\n"
        "async def main():\n"
        "    first = asyncio.ensure_future(asyncio.to_thread(work, 1))\n"
        "    second = asyncio.ensure_future(asyncio.to_thread(work, 2))\n"
        "    print(await first)\n"
        "    print(await second)\n"
        "asyncio.run(main())\n",
        # 10 ms against 200 ms: due at different times.
        EXECUTOR.replace("time.sleep(0.01)", "time.sleep(0.01 if n == 1 else 0.2)").replace(
            "one(3)", ""
        ),
    ],
    ids=["one-task", "different-times"],
)
def test_python_look_alikes_are_not_races(source: str) -> None:
    assert races("python", source) == ()


TIMER_AND_THREAD = """\
import asyncio
import time


async def timer():
    await asyncio.sleep(0.05)
    print("timer")


async def thread():
    await asyncio.to_thread(time.sleep, 0.05)
    print("thread")


async def main():
    # The thread first: it starts a little earlier than the timer, so either can win, on a quiet
    # machine too (the timer first wins every time unless the machine is loaded).
    await asyncio.gather(thread(), timer())


asyncio.run(main())
"""


def test_python_timer_and_thread_due_at_the_same_time_race() -> None:
    (race,) = races("python", TIMER_AND_THREAD)
    assert race.rule == "timer-vs-thread"
    assert (race.first.line, race.second.api, race.second.line) == (6, "to_thread", 11)
    assert "due at the same time (50 ms)" in race.explanation


def test_python_timer_and_thread_really_flip(tmp_path: Path) -> None:
    # Which of the two wins depends on sub-millisecond timing: started first, the thread usually
    # wins on a quiet machine, while on a loaded one the timer often does; started second, it
    # loses unless the machine is loaded. Both programs are flagged, and together they print
    # both orders on any machine, quiet or loaded.
    timer_first = TIMER_AND_THREAD.replace("gather(thread(), timer())", "gather(timer(), thread())")
    assert races("python", timer_first) != ()
    # Rounds of both programs until both orders showed (a quiet stretch of the machine can give
    # one order eighty times running), bounded: 400 runs at most, about 40 s.
    seen: set[str] = set()
    for _ in range(5):
        for program in (TIMER_AND_THREAD, timer_first):
            seen |= orders_seen(tmp_path, "python", program, runs=40)
        if len(seen) == 2:
            break
    assert seen == {"thread\ntimer\n", "timer\nthread\n"}


def test_python_timer_and_a_longer_thread_are_not_a_race() -> None:
    assert races("python", TIMER_AND_THREAD.replace("time.sleep, 0.05", "time.sleep, 0.2")) == ()


def test_repeated_runs_catch_a_race_that_no_rule_knows() -> None:
    # Plain threads printing themselves: no rule covers them, repeated runs do. Forty lines from
    # four threads that start together (a barrier: without it, whatever delays one thread's
    # start puts its steps apart from the others', and runs come out alike) interleave
    # differently from run to run: 13 to 20 orders in 20 runs, where 1 to 7 without the barrier
    # (one printed line each was too little: on a quiet machine 27 of 30 plain runs were alike).
    source = (
        "import threading\n"
        "import time\n"
        "start = threading.Barrier(4)\n"
        "def work(name):\n"
        "    start.wait()\n"
        "    for step in range(10):\n"
        "        time.sleep(0.001)\n"
        "        print(name, step)\n"
        "threads = [threading.Thread(target=work, args=(n,)) for n in 'abcd']\n"
        "for thread in threads:\n"
        "    thread.start()\n"
    )
    snippet = Snippet("threads", "python", "threads.py", source, "docs/race.md", 1)
    assert recognise_races(trace_snippet(snippet), source) == ()
    verdict = judge(snippet, trace_runs(snippet, DEFAULT_LIMITS, 20)).verdict
    assert verdict is not None
    assert verdict.reasons[0].startswith("its ")
    assert " is not fixed: run " in verdict.reasons[0]
