"""Build speed of a generated site with 100 JavaScript and 30 Python traced snippets.

Prints, measured in one run on this machine (medians of --runs runs each):
- the plain build (plugin disabled), the cold build (empty cache) and the warm build (full cache),
  each a `mkdocs build` process; plain and warm builds alternate, and their CPU time is shown too;
- the cold build on the six runtimes a site proves on by default (Node 20, 22, 24 and CPython
  3.11-3.13, those this machine has) against the cold build on one runtime per language (the
  newest Node, the Python that runs looplens), alternating;
- a serve-style rebuild (in one long-lived process, as `mkdocs serve` does) after editing one
  snippet, against the same rebuild without an edit plus that snippet's own trace time;
- the parallel floor: the snippets' plain run times added up and divided by the cores, or the
  longest one, whichever is larger;
- running each JavaScript snippet as its own `node` process, one after the other, against the
  warm build and against the time looplens itself spends in a warm (serve-style) build: its hooks
  and its fence renderer, timed from inside.

With --baseline DIR (another checkout of the project, e.g. a `git worktree` of an earlier
commit), cold builds with that checkout's plugin alternate with this one's, and their ratio is
printed: a change's cost measured side by side, under the same load.

    .venv/bin/python benchmarks/build_speed.py [--runs 3] [--js 100] [--py 30] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import compileall
import functools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config

import looplens
from looplens.plugin import LooplensPlugin
from looplens.render.formatter import FenceRenderer
from looplens.runtimes.matrix import default_runtime
from looplens.tracing.node.tracer import trace_javascript

SNIPPETS_PER_PAGE = 10

# No race in it (a timer against setImmediate in the main module is one): the build refuses
# snippets whose order can change between runs unless they are marked as such.
JS_TEMPLATE = """\
console.log("start {n}");
setTimeout(() => {{
  console.log("timeout {n}");
  setImmediate(() => console.log("immediate {n}"));
}}, {delay});
Promise.resolve().then(() => console.log("promise {n}"));
process.nextTick(() => console.log("tick {n}"));
"""

PY_TEMPLATE = """\
import asyncio


async def worker(name, delay):
    await asyncio.sleep(delay)
    print(f"{{name}} done {n}")


async def main():
    print("start {n}")
    await asyncio.gather(worker("a", 0.{delay:02d}), worker("b", 0.01))


asyncio.run(main())
"""

CONFIG = """\
site_name: bench
theme:
  name: material
markdown_extensions:
  - attr_list
  - pymdownx.superfences
  - pymdownx.tabbed:
      alternate_style: true
plugins:
  - search  # Material's: it reads every page a build writes, runs included
  - looplens:
      enabled: {enabled}
      cache_dir: cache
{runtimes}"""

#: One runtime per language: what a site proved its snippets on before the runtime matrix.
_RUNNING_PYTHON = f"python@{sys.version_info.major}.{sys.version_info.minor}"
ONE_RUNTIME_EACH = f"      runtimes: [node@24, {_RUNNING_PYTHON}]\n"


def generate(root: Path, js_count: int, py_count: int) -> list[Path]:
    """The site, and each snippet also as a file (for the plain runs)."""
    (root / "docs").mkdir(parents=True)
    (root / "plain").mkdir()
    files: list[Path] = []
    snippets = [("js", JS_TEMPLATE, n) for n in range(js_count)]
    snippets += [("python", PY_TEMPLATE, n) for n in range(py_count)]
    for page_number in range(0, len(snippets), SNIPPETS_PER_PAGE):
        fences = []
        for language, template, n in snippets[page_number : page_number + SNIPPETS_PER_PAGE]:
            code = template.format(n=n, delay=n % 20)
            fences.append(
                f"## Snippet {language} {n}\n\n```{language} {{#s-{language}-{n} .trace}}\n"
                f"{code}```\n"
            )
            suffix = ".js" if language == "js" else ".py"
            files.append(root / "plain" / f"s{n}{suffix}")
            files[-1].write_text(code)
        page = f"# Page {page_number}\n\n" + "\n".join(fences)
        (root / "docs" / f"page{page_number // SNIPPETS_PER_PAGE}.md").write_text(page)
    (root / "docs" / "index.md").write_text("# Bench\n")
    return files


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def timed_with_cpu(action: Callable[[], object]) -> tuple[float, float]:
    """Wall time, and the CPU time (user + system) of the child processes `action` ran."""
    before = os.times()
    wall = timed(action)
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return wall, cpu


def build(
    root: Path, *, enabled: bool = True, plugin: Path | None = None, runtimes: str = ""
) -> None:
    """One `mkdocs build` of the generated site; `plugin`: the plugin folder of another checkout
    to build with instead of this one's; `runtimes`: a `runtimes:` line (default: all six)."""
    config = CONFIG.format(enabled=str(enabled).lower(), runtimes=runtimes)
    (root / "mkdocs.yml").write_text(config)
    environment = dict(BUILD_ENVIRONMENT)
    if plugin is not None:
        environment["PYTHONPATH"] = str(plugin)
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-q"],
        cwd=root,
        check=True,
        env=environment,
    )


# Installed packages come with compiled bytecode; an editable install compiles on first import,
# unless PYTHONDONTWRITEBYTECODE forbids it (some machines set it): then every build would compile
# the plugin from source while MkDocs loads its bytecode, which is not what a user runs.
BUILD_ENVIRONMENT = {
    **{name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"},
    "NO_MKDOCS_2_WARNING": "1",
}


def compile_the_plugin() -> None:
    compileall.compile_dir(Path(looplens.__file__).parent, quiet=1)


def build_in_process(root: Path) -> None:
    previous = Path.cwd()
    os.chdir(root)
    try:
        mkdocs_build(load_config(str(root / "mkdocs.yml")))
    finally:
        os.chdir(previous)


def time_inside_looplens(root: Path, runs: int) -> float:
    """The median, over `runs` in-process builds, of the time spent in the plugin's hooks and in
    its fence renderer (which SuperFences calls once per traced fence)."""
    spent = [0.0]

    def timing(method: Callable[..., object]) -> Callable[..., object]:
        @functools.wraps(method)
        def timed_method(*arguments: object, **keywords: object) -> object:
            start = time.perf_counter()
            try:
                return method(*arguments, **keywords)
            finally:
                spent[0] += time.perf_counter() - start

        return timed_method

    methods = [(FenceRenderer, "format")] + [
        (LooplensPlugin, name) for name in vars(LooplensPlugin) if name.startswith("on_")
    ]
    originals = [(owner, name, vars(owner)[name]) for owner, name in methods]
    for owner, name, method in originals:
        setattr(owner, name, timing(method))
    try:
        totals = []
        for _ in range(runs):
            spent[0] = 0.0
            build_in_process(root)
            totals.append(spent[0])
    finally:
        for owner, name, method in originals:
            setattr(owner, name, method)
    return statistics.median(totals)


def median_of(runs: int, prepare: Callable[[], object], action: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        prepare()
        times.append(timed(action))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--js", type=int, default=100)
    parser.add_argument("--py", type=int, default=30)
    parser.add_argument(
        "--baseline", type=Path, help="another checkout: its cold build, side by side with this"
    )
    arguments = parser.parse_args()
    cores = os.cpu_count() or 1
    snippet_count = arguments.js + arguments.py
    compile_the_plugin()

    with tempfile.TemporaryDirectory(prefix="looplens-bench-") as folder:
        root = Path(folder)
        files = generate(root, arguments.js, arguments.py)
        cache = root / "cache"
        edited_page = root / "docs" / "page0.md"
        original = edited_page.read_text()

        def clear_cache() -> None:
            shutil.rmtree(cache, ignore_errors=True)

        def edit_one_snippet() -> None:
            edited_page.write_text(original.replace('"start 0"', f'"start 0 {time.time_ns()}"'))

        cold_builds, baseline_builds, one_runtime_builds = [], [], []
        baseline_plugin = arguments.baseline.resolve() / "plugin" if arguments.baseline else None
        for _ in range(arguments.runs):
            clear_cache()
            cold_builds.append(timed(lambda: build(root)))
            clear_cache()
            one_runtime_builds.append(timed(lambda: build(root, runtimes=ONE_RUNTIME_EACH)))
            if baseline_plugin is not None:
                clear_cache()
                baseline_builds.append(timed(lambda: build(root, plugin=baseline_plugin)))
        cold = statistics.median(cold_builds)
        # Plain and warm builds alternate, so that a change in the machine's load falls on both;
        # their CPU time (the build process's, user + system) is less sensitive to load than
        # wall time, and is reported beside it.
        plain_builds, warm_builds = [], []
        for _ in range(arguments.runs):
            plain_builds.append(timed_with_cpu(lambda: build(root, enabled=False)))
            warm_builds.append(timed_with_cpu(lambda: build(root)))
        plain = statistics.median(wall for wall, _ in plain_builds)
        warm = statistics.median(wall for wall, _ in warm_builds)
        plain_cpu = statistics.median(cpu for _, cpu in plain_builds)
        warm_cpu = statistics.median(cpu for _, cpu in warm_builds)
        pair_ratio = statistics.median(
            warm_wall / plain_wall
            for (plain_wall, _), (warm_wall, _) in zip(plain_builds, warm_builds, strict=True)
        )
        build_in_process(root)  # imports and first-build costs, which `mkdocs serve` pays once
        serve_warm = median_of(arguments.runs, lambda: None, lambda: build_in_process(root))
        inside = time_inside_looplens(root, arguments.runs)
        serve_edit = median_of(arguments.runs, edit_one_snippet, lambda: build_in_process(root))
        edited_page.write_text(original)
        edited_trace = median_of(arguments.runs, lambda: None, lambda: trace_javascript(files[0]))

        plain_runs = {file: timed(functools.partial(run_plain, file)) for file in files}
        js_serial = sum(seconds for file, seconds in plain_runs.items() if file.suffix == ".js")
        floor = max(sum(plain_runs.values()) / cores, max(plain_runs.values()))

    one_runtime = statistics.median(one_runtime_builds)
    runtimes_pairwise = statistics.median(
        six / one for six, one in zip(cold_builds, one_runtime_builds, strict=True)
    )
    rows = [
        ("plain build (plugin disabled)", plain, ""),
        ("cold build, one runtime per language", one_runtime, ONE_RUNTIME_EACH.strip()),
        (
            "cold build, the default six runtimes",
            cold,
            f"{cold / one_runtime:.2f} × one runtime each (target ≤ 3.5); pairwise median "
            f"{runtimes_pairwise:.2f}",
        ),
        (
            "warm build",
            warm,
            f"{warm / plain:.2f} × plain (target ≤ 1.10); pairwise median {pair_ratio:.2f};"
            f" CPU {warm_cpu:.2f} s vs {plain_cpu:.2f} s = {warm_cpu / plain_cpu:.2f} ×",
        ),
        ("serve-style rebuild, nothing edited", serve_warm, ""),
        (
            "serve-style rebuild after editing one snippet",
            serve_edit,
            f"{serve_edit / (serve_warm + edited_trace):.2f} × (rebuild + its trace"
            f" {edited_trace * 1000:.0f} ms) (target ≤ 1.20)",
        ),
        ("parallel floor", floor, f"{cores} cores"),
        ("looplens's own time in a warm serve-style rebuild", inside, "hooks + fence renderer"),
        (
            f"{arguments.js} JS snippets, one node process each, serially",
            js_serial,
            f"{js_serial / inside:.0f} × looplens's own time for all {snippet_count} snippets"
            f" (target ≥ 10); as whole builds, plain + these runs = {plain + js_serial:.2f} s ="
            f" {(plain + js_serial) / warm:.1f} × the warm build",
        ),
    ]
    if baseline_builds:
        baseline = statistics.median(baseline_builds)
        pairwise = statistics.median(
            ours / theirs for ours, theirs in zip(cold_builds, baseline_builds, strict=True)
        )
        rows.insert(
            2,
            (
                f"cold build with {arguments.baseline}",
                baseline,
                f"this checkout's cold build = {cold / baseline:.2f} × it; pairwise median "
                f"{pairwise:.2f}",
            ),
        )
    print(f"{arguments.js} JS + {arguments.py} Python snippets, medians of {arguments.runs} runs")
    for name, seconds, note in rows:
        print(f"{name:<58} {seconds:7.3f} s   {note}")


def run_plain(file: Path) -> None:
    runtime = (
        str(default_runtime("javascript").executable) if file.suffix == ".js" else sys.executable
    )
    subprocess.run([runtime, str(file)], cwd=file.parent, capture_output=True, check=True)


if __name__ == "__main__":
    main()
