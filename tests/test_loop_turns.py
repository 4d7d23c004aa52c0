"""Turns from real runs: the pass of its loop each printed line ran in, and which turn numbers a
clock chose (marked as measured) rather than the loop's rules."""

from __future__ import annotations

from pathlib import Path

from looplens.trace import Trace
from looplens.tracing.node.tracer import trace_javascript
from looplens.tracing.python.tracer import trace_python


def run(tmp_path: Path, name: str, source: str) -> Trace:
    path = tmp_path / name
    path.write_text(source, encoding="utf-8")
    if path.suffix == ".py":
        return trace_python(path)
    return trace_javascript(path)


def turns(trace: Trace) -> dict[str, int]:
    return {line.text: line.turn for line in trace.lines}


def measured(trace: Trace) -> set[str]:
    return {line.text for line in trace.lines if line.callback in trace.turns_measured}


def test_node_an_immediate_set_in_an_io_callback_runs_in_the_same_turn(tmp_path: Path) -> None:
    trace = run(
        tmp_path,
        "io.js",
        'require("node:fs").stat(__filename, () => {\n'
        '  console.log("stat");\n'
        '  setImmediate(() => console.log("immediate"));\n'
        "});\n",
    )
    assert turns(trace) == {"stat": 1, "immediate": 1}
    assert trace.turns_measured == ()


def test_node_a_lone_timer_has_the_turn_the_rules_give_it(tmp_path: Path) -> None:
    trace = run(tmp_path, "lone.js", 'setTimeout(() => console.log("timer"), 50);\n')
    assert turns(trace) == {"timer": 1}
    assert trace.turns_measured == ()


def test_node_a_timer_due_with_another_has_its_turn_counted_by_the_clock(tmp_path: Path) -> None:
    # Due the same millisecond as A or the next one: in A's pass or the one after.
    trace = run(
        tmp_path,
        "pair.js",
        'setTimeout(() => console.log("A"), 0);\n'
        'Promise.resolve().then(() => setTimeout(() => console.log("B"), 0));\n',
    )
    assert turns(trace)["B"] in (1, 2)
    assert "B" in measured(trace)


def test_python_each_hop_of_a_call_soon_chain_is_a_pass_of_the_loop(tmp_path: Path) -> None:
    trace = run(
        tmp_path,
        "chain.py",
        "import asyncio\n\n\n"
        "async def main():\n"
        "    loop = asyncio.get_running_loop()\n"
        "    loop.call_soon(lambda: print('a') or loop.call_soon(lambda: print('b')))\n"
        "    print('main')\n\n\n"
        "asyncio.run(main())\n"
        "print('between')\n"
        "asyncio.run(main())\n",
    )
    printed = [(line.text, line.turn) for line in trace.lines]
    # The second asyncio.run goes on counting the passes of this thread.
    assert printed == [
        ("main", 1),
        ("a", 2),
        ("b", 3),
        ("between", 0),
        ("main", 4),
        ("a", 5),
        ("b", 6),
    ]
    assert trace.turns_measured == ()


def test_python_timers_due_together_run_in_one_pass_on_virtual_time(tmp_path: Path) -> None:
    trace = run(
        tmp_path,
        "sleeps.py",
        "import asyncio\n\n\n"
        "async def nap(name):\n"
        "    await asyncio.sleep(0.1)\n"
        "    print(name)\n\n\n"
        "async def main():\n"
        "    await asyncio.gather(nap('x'), nap('y'))\n\n\n"
        "asyncio.run(main())\n",
    )
    assert turns(trace)["x"] == turns(trace)["y"]
    assert trace.turns_measured == ()
