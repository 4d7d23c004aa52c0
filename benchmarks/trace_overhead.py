"""How much slower is a traced run than a plain run of the same bundled Node?

For teaching-size snippets from tests/cases/js, time three ways of running each file, interleaved
round by round so that load on the machine hits all three alike:

- plain:  `node FILE`, what a reader would run;
- node+preload: the same with the looplens preload, records written to a temporary file;
- trace:  trace_javascript(FILE), the preload run plus parsing and building the Trace.

Run: .venv/bin/python benchmarks/trace_overhead.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from looplens.runtimes.matrix import default_runtime
from looplens.sandbox.node_permissions import PRELOAD
from looplens.tracing.child import TRACE_FD_VARIABLE
from looplens.tracing.node.tracer import trace_javascript

CASES = Path(__file__).resolve().parent.parent / "tests" / "cases" / "js"
NAMES = [
    "micro_vs_macro.js",
    "async_puzzle.js",
    "tick_inside_promise.js",
    "queue_microtask.js",
    "await_non_promise.js",
    "console_error.js",
    "io_immediate_vs_timeout.js",
    "fs_promises.mjs",
    "typescript_types.ts",
    "emitter_in_timer.js",
    "net_server.js",
    "worker.js",
]


def plain(path: Path) -> None:
    subprocess.run(
        [str(default_runtime("javascript").executable), str(path)],
        cwd=path.parent,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )


def preload_only(path: Path) -> None:
    with tempfile.TemporaryFile() as side_channel:
        fd = side_channel.fileno()
        subprocess.run(
            [str(default_runtime("javascript").executable), "--require", str(PRELOAD), str(path)],
            cwd=path.parent,
            env={**os.environ, TRACE_FD_VARIABLE: str(fd)},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            pass_fds=(fd,),
            check=False,
        )


def traced(path: Path) -> None:
    trace_javascript(path)


def timed(run: Callable[[Path], None], path: Path) -> float:
    start = time.perf_counter()
    run(path)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=11, help="runs of each way (default 11)")
    rounds = parser.parse_args().rounds
    ways: list[tuple[str, Callable[[Path], None]]] = [
        ("plain", plain),
        ("node+preload", preload_only),
        ("trace", traced),
    ]
    traced(CASES / NAMES[0])  # warm the caches (node_version, the page cache) before timing
    print(f"median of {rounds} interleaved runs, milliseconds")
    print(f"{'snippet':<28}{'plain':>8}{'node+preload':>14}{'trace':>8}{'ratio':>8}")
    ratios = []
    for name in NAMES:
        path = CASES / name
        samples: dict[str, list[float]] = {label: [] for label, _ in ways}
        for _ in range(rounds):
            for label, run in ways:
                samples[label].append(timed(run, path))
        medians = {label: statistics.median(values) * 1000 for label, values in samples.items()}
        ratio = medians["trace"] / medians["plain"]
        ratios.append(ratio)
        print(
            f"{name:<28}{medians['plain']:>8.1f}{medians['node+preload']:>14.1f}"
            f"{medians['trace']:>8.1f}{ratio:>7.2f}x"
        )
    print(f"{'median ratio trace/plain':<58}{statistics.median(ratios):>7.2f}x")


if __name__ == "__main__":
    main()
