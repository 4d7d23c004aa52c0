"""Virtual time: how long a snippet whose asyncio.sleep calls add up to 5 s takes to trace.

Compares the median wall time of a plain `python FILE` run (which really sleeps) with that of a
traced run (virtual time: the clock jumps over the sleeps), on the test case
tests/cases/py/five_seconds_of_sleeps.py. The requirement is a traced run under 0.5 s.

    .venv/bin/python benchmarks/python_virtual_time.py [--plain-runs 3] [--traced-runs 10]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from looplens.runtimes.matrix import default_runtime
from looplens.sandbox.environment import python_environment
from looplens.tracing.python.tracer import trace_python

SNIPPET = Path(__file__).parent.parent / "tests" / "cases" / "py" / "five_seconds_of_sleeps.py"
LIMIT_S = 0.5


def plain_run() -> None:
    subprocess.run(
        [sys.executable, str(SNIPPET)],
        cwd=SNIPPET.parent,
        env=python_environment(),
        capture_output=True,
        check=True,
    )


def traced_run() -> None:
    trace = trace_python(SNIPPET)
    if trace.lines[-1].t != 5000:
        raise SystemExit(f"unexpected logical time: {trace.lines[-1].t} ms")


def median_wall_time(run: Callable[[], None], times: int) -> float:
    walls = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        walls.append(time.perf_counter() - started)
    return statistics.median(walls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--plain-runs", type=int, default=3)
    parser.add_argument("--traced-runs", type=int, default=10)
    arguments = parser.parse_args()
    plain = median_wall_time(plain_run, arguments.plain_runs)
    traced = median_wall_time(traced_run, arguments.traced_runs)
    print(f"{default_runtime('python').identity}, {SNIPPET.name} (50 × asyncio.sleep(0.1))")
    print(f"plain run:  median {plain:.3f} s over {arguments.plain_runs} runs")
    print(f"traced run: median {traced:.3f} s over {arguments.traced_runs} runs (virtual time)")
    verdict = "met" if traced < LIMIT_S else "MISSED"
    print(f"speed-up:   {plain / traced:.0f}×; limit {LIMIT_S} s: {verdict}")


if __name__ == "__main__":
    main()
