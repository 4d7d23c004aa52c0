"""Cold strict builds of the site on a loaded machine: a build that is right must still pass.

Starts --hogs processes that spin on the CPU, then runs --builds cold strict builds of the
project's own site (trace cache off, every snippet traced afresh), --parallel at a time, and
prints for each whether it passed, how long it took, and how many runs the machine's load
disturbed (they ran again). Exits 1 if any build failed, with its last log lines.

    .venv/bin/python benchmarks/loaded_builds.py [--builds 4] [--parallel 2] [--hogs 4]
"""

from __future__ import annotations

import argparse
import multiprocessing
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent

#: One cold strict build, in a process of its own (as CI runs one), into the folder argv[1].
BUILD = """
import logging
import sys
from mkdocs.commands.build import build
from mkdocs.config import load_config

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
config = load_config(sys.argv[2], site_dir=sys.argv[1], strict=True)
config.plugins["looplens"].config["cache"] = False
build(config)
"""


@dataclass(frozen=True)
class BuildResult:
    passed: bool
    seconds: float
    disturbed: int
    log: str


def spin() -> None:
    while True:
        pass


def cold_build(site_dir: Path) -> BuildResult:
    started = time.perf_counter()
    finished = subprocess.run(
        [sys.executable, "-c", BUILD, str(site_dir), str(PROJECT / "mkdocs.yml")],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"},
    )
    log = finished.stderr + finished.stdout
    return BuildResult(
        finished.returncode == 0,
        time.perf_counter() - started,
        log.count("run disturbed by the machine's load"),
        log,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--builds", type=int, default=4)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--hogs", type=int, default=4)
    arguments = parser.parse_args()
    hogs = [multiprocessing.Process(target=spin, daemon=True) for _ in range(arguments.hogs)]
    for hog in hogs:
        hog.start()
    try:
        with tempfile.TemporaryDirectory(prefix="looplens-loaded-") as folder:
            sites = [Path(folder) / f"site{n}" for n in range(arguments.builds)]
            with ThreadPoolExecutor(arguments.parallel) as builds:
                results = list(builds.map(cold_build, sites))
    finally:
        for hog in hogs:
            hog.terminate()
    print(
        f"{arguments.builds} cold strict builds, {arguments.parallel} at a time, beside "
        f"{arguments.hogs} CPU hogs"
    )
    for number, result in enumerate(results, start=1):
        verdict = "passed" if result.passed else "FAILED"
        print(
            f"build {number}: {verdict} in {result.seconds:.1f} s, "
            f"{result.disturbed} disturbed run(s) run again"
        )
    failed = [result for result in results if not result.passed]
    for result in failed:
        print("\n".join(result.log.splitlines()[-30:]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
