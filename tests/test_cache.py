"""The trace cache: atomic, content-addressed, and never an error when an entry is damaged."""

from __future__ import annotations

import ast
import dataclasses
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from looplens.cache import TraceCache
from looplens.errors import TracerError
from looplens.limits import Limits
from looplens.runtimes.runtime import Runtime
from looplens.snippet import Snippet
from looplens.trace import Trace
from looplens.tracing import digests, run
from looplens.tracing.digests import snippet_digest
from looplens.tracing.pool import TracePool

GOLDEN = Path(__file__).parent / "golden" / "micro-vs-macro.trace.json"


def a_trace() -> Trace:
    return Trace.from_json(GOLDEN.read_text(encoding="utf-8"))


def a_snippet(source: str = 'console.log("hi");\n') -> Snippet:
    return Snippet("hi", "javascript", "hi.js", source, "docs/page.md", 1)


def test_an_entry_round_trips(tmp_path: Path) -> None:
    cache = TraceCache(tmp_path)
    assert cache.get_entry("ab" * 32) is None
    cache.put("ab" * 32, a_trace())
    assert _trace_in(cache, "ab" * 32) == a_trace()


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],
        lambda text: "",
        lambda text: text.replace('"version": 2', '"version": 0'),
        lambda text: "[1, 2, 3]",
    ],
    ids=["truncated", "empty", "other-version", "not-a-trace"],
)
def test_a_damaged_entry_is_a_miss_and_is_replaced(tmp_path: Path, damage: object) -> None:
    cache = TraceCache(tmp_path)
    digest = "cd" * 32
    cache.put(digest, a_trace())
    entry = next(tmp_path.rglob(f"{digest}.json"))
    entry.write_text(damage(entry.read_text()))  # type: ignore[operator]
    assert cache.get_entry(digest) is None
    cache.put(digest, a_trace())
    assert _trace_in(cache, digest) == a_trace()


def test_concurrent_writers_never_show_a_reader_half_an_entry(tmp_path: Path) -> None:
    cache = TraceCache(tmp_path)
    digest = "ef" * 32
    seen: list[Trace | None] = []
    writes = [0]
    stop = threading.Event()

    def write() -> None:
        while not stop.is_set():
            cache.put(digest, a_trace())
            writes[0] += 1

    # From a whole entry on, every read must find a whole one, however the writers replace it.
    cache.put(digest, a_trace())
    writers = [threading.Thread(target=write) for _ in range(3)]
    for writer in writers:
        writer.start()
    # Reads go on until the writers have replaced the entry many times (a reader alone in the
    # interpreter could otherwise do all its reads before any writer runs).
    deadline = time.monotonic() + 30
    while (len(seen) < 300 or writes[0] < 100) and time.monotonic() < deadline:
        seen.append(_trace_in(cache, digest))
    stop.set()
    for writer in writers:
        writer.join()
    assert writes[0] >= 100
    assert all(trace == a_trace() for trace in seen)
    assert [path.name for path in tmp_path.rglob("*") if path.is_file()] == [f"{digest}.json"]


def test_a_second_pool_takes_traces_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = TracePool(cache=TraceCache(tmp_path))
    trace = first.run_set(a_snippet())[0]
    first.close()
    assert [line.text for line in trace.lines] == ["hi"]

    def must_not_run(snippet: Snippet, options: Limits) -> Trace:
        raise AssertionError("traced again although cached")

    monkeypatch.setattr(run, "trace_snippet", must_not_run)
    second = TracePool(cache=TraceCache(tmp_path))
    assert second.run_set(a_snippet())[0] == trace
    assert (second.submitted, second.cached) == (1, 1)
    second.close()


def test_a_truncated_trace_is_not_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    truncated = dataclasses.replace(a_trace(), truncated=True)
    monkeypatch.setattr(run, "trace_snippet", lambda snippet, options, runtime=None: truncated)
    pool = TracePool(cache=TraceCache(tmp_path))
    assert pool.run_set(a_snippet())[0] == truncated
    pool.close()
    assert list(tmp_path.rglob("*.json")) == []


def test_the_digest_changes_with_code_filename_and_options() -> None:
    base = snippet_digest(a_snippet(), Limits())
    assert snippet_digest(a_snippet("console.log(2);\n"), Limits()) != base
    renamed = dataclasses.replace(a_snippet(), filename="hi.mjs")
    assert snippet_digest(renamed, Limits()) != base
    assert snippet_digest(a_snippet(), Limits(timeout_s=3)) != base
    moved = dataclasses.replace(a_snippet(), page="docs/other.md", line=40)
    assert snippet_digest(moved, Limits()) == base, "where a snippet sits does not matter"


# --- sets of runs (a snippet run several times) ---------------------------------------------------


def test_a_set_of_runs_round_trips_and_the_other_kind_of_entry_is_a_miss(tmp_path: Path) -> None:
    cache = TraceCache(tmp_path)
    runs = (a_trace(), dataclasses.replace(a_trace(), exit_code=1))
    cache.put_runs("cd" * 32, runs)
    entry = cache.get_runs_entry("cd" * 32)
    assert entry is not None and entry[0] == runs
    assert cache.get_entry("cd" * 32) is None, "a set is not a trace"
    cache.put("ef" * 32, a_trace())
    assert cache.get_runs_entry("ef" * 32) is None, "a trace (the older format) is not a set"
    (tmp_path / "ab").mkdir()
    (tmp_path / "ab" / f"{'ab' * 32}.json").write_text('{"runs": [{"version": 0}]}')
    assert cache.get_runs_entry("ab" * 32) is None


def test_the_digest_of_a_set_includes_its_count_and_one_run_keeps_the_plain_entry() -> None:
    snippet, limits = a_snippet(), Limits()
    assert digests.runs_digest(snippet, limits, 1) == snippet_digest(snippet, limits)
    assert len({digests.runs_digest(snippet, limits, count) for count in (1, 2, 20)}) == 3


def test_a_set_of_runs_is_one_entry_taken_whole_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marked = dataclasses.replace(a_snippet(), runs=3)
    first = TracePool(cache=TraceCache(tmp_path))
    runs = first.run_set(marked)
    first.close()
    assert len(runs) == 3 and all([line.text for line in t.lines] == ["hi"] for t in runs)
    assert [path.name for path in tmp_path.rglob("*.json")] == [
        f"{digests.runs_digest(marked, Limits(), 3)}.json"
    ]

    def must_not_run(snippet: Snippet, options: Limits) -> Trace:
        raise AssertionError("traced again although cached")

    monkeypatch.setattr(run, "trace_snippet", must_not_run)
    second = TracePool(cache=TraceCache(tmp_path))
    assert second.run_set(marked) == runs
    assert (second.submitted, second.cached) == (1, 1)
    second.close()


def test_one_truncated_run_keeps_its_whole_set_out_of_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    traces = iter([a_trace(), dataclasses.replace(a_trace(), truncated=True), a_trace()])
    monkeypatch.setattr(run, "trace_snippet", lambda snippet, options, runtime=None: next(traces))
    pool = TracePool(cache=TraceCache(tmp_path))
    runs = pool.run_set(dataclasses.replace(a_snippet(), runs=3))
    pool.close()
    assert [trace.truncated for trace in runs] == [False, True, False]
    assert list(tmp_path.rglob("*.json")) == []


def test_one_failed_run_fails_the_set_and_caches_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcomes = iter([a_trace(), None])

    def second_run_fails(
        snippet: Snippet, options: Limits, runtime: Runtime | None = None
    ) -> Trace:
        trace = next(outcomes)
        if trace is None:
            raise TracerError("docs/page.md:1: snippet 'hi': it broke")
        return trace

    monkeypatch.setattr(run, "trace_snippet", second_run_fails)
    pool = TracePool(cache=TraceCache(tmp_path))
    with pytest.raises(TracerError, match="it broke"):
        pool.run_set(dataclasses.replace(a_snippet(), runs=2))
    pool.close()
    assert list(tmp_path.rglob("*.json")) == []


def test_the_site_runs_setting_applies_to_unmarked_snippets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def count(snippet: Snippet, options: Limits, runtime: Runtime | None = None) -> Trace:
        calls.append(snippet.id)
        return a_trace()

    monkeypatch.setattr(run, "trace_snippet", count)
    pool = TracePool(runs=4)
    assert len(pool.run_set(a_snippet())) == 4
    pool.close()
    assert calls == ["hi"] * 4


@pytest.mark.parametrize(
    "damage",
    [lambda text: text[: len(text) // 2], lambda text: "", lambda text: text + "<p>more</p>"],
    ids=["truncated", "empty", "appended"],
)
def test_a_damaged_drawn_block_is_a_miss(tmp_path: Path, damage: object) -> None:
    cache = TraceCache(tmp_path)
    key = "12" * 32
    cache.put_rendered(key, '<div class="looplens">…</div>')
    assert cache.get_rendered(key) == '<div class="looplens">…</div>'
    entry = next(tmp_path.rglob(f"{key}.html"))
    entry.write_text(damage(entry.read_text()))  # type: ignore[operator]
    assert cache.get_rendered(key) is None


def test_a_kept_trace_has_the_same_content_digest_when_read_back(tmp_path: Path) -> None:
    cache = TraceCache(tmp_path)
    written = cache.put("ab" * 32, a_trace())
    assert cache.get_entry("ab" * 32) == (a_trace(), written)
    other = dataclasses.replace(a_trace(), exit_code=3)
    assert cache.put("cd" * 32, other) != written


@pytest.mark.parametrize("tracer", ["tracing.node.tracer", "tracing.python.tracer"])
def test_the_tracer_digest_covers_every_module_the_tracer_imports(tracer: str) -> None:
    """A module a tracer imports but the digest skips would leave stale traces in the cache."""
    package = digests.PACKAGE
    seen: set[str] = set()
    waiting = [tracer]
    while waiting:
        name = waiting.pop()
        if name in seen:
            continue
        seen.add(name)
        source = (package / f"{name.replace('.', '/')}.py").read_text()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("looplens."):
                module = (node.module or "").removeprefix("looplens.")
                if (package / module.replace(".", "/")).is_dir():  # a folder: its modules
                    waiting += [f"{module}.{alias.name}" for alias in node.names]
                else:
                    waiting.append(module)
    language = "javascript" if "node" in tracer else "python"
    covered = {file.relative_to(package).as_posix() for file in digests.tracer_files(language)}
    imported = {f"{name.replace('.', '/')}.py" for name in seen}
    assert imported - covered == set()


@pytest.fixture
def tracer_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The package's files copied, and the tracer digests read from the copy while the test
    runs; afterwards they are read from the package again."""
    copy = tmp_path / "looplens"
    shutil.copytree(digests.PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(digests, "PACKAGE", copy)
    forget_tracer_digests = [digests._loaded_code_digest.cache_clear, digests.reread_tracers]
    for forget in forget_tracer_digests:
        forget()
    yield copy
    for forget in forget_tracer_digests:
        forget()


def test_each_build_reads_the_tracers_again(tracer_copy: Path) -> None:
    """`mkdocs serve` watches the tracers and rebuilds in the same process: the rebuild's pool
    must see an edited tracer, or every snippet would keep its trace from the old one."""
    javascript = a_snippet()
    python = Snippet("py", "python", "py.py", 'print("hi")\n', "docs/page.md", 3)

    def digests() -> tuple[str, str]:
        pool = TracePool()
        try:
            return pool.digest(javascript), pool.digest(python)
        finally:
            pool.close()

    before = digests()
    assert digests() == before
    preload = tracer_copy / "tracers" / "node" / "preload.cjs"
    preload.write_text(preload.read_text() + "\n// edited\n")
    after = digests()
    assert after[0] != before[0]
    assert after[1] == before[1], "an edit to the Node tracer leaves Python's traces alone"


def test_the_modules_a_build_runs_are_named_as_they_were_loaded(tracer_copy: Path) -> None:
    """The plugin's own modules are not reloaded by `mkdocs serve`: an edit to one must not
    rename the traces that the code still loaded goes on making."""
    pool = TracePool()
    before = pool.digest(a_snippet())
    pool.close()
    module = tracer_copy / "tracing" / "node" / "tracer.py"
    module.write_text(module.read_text() + "\n# edited\n")
    pool = TracePool()
    assert pool.digest(a_snippet()) == before
    pool.close()
    digests._loaded_code_digest.cache_clear()  # what a new process does
    pool = TracePool()
    assert pool.digest(a_snippet()) != before
    pool.close()


def _trace_in(cache: TraceCache, digest: str) -> Trace | None:
    entry = cache.get_entry(digest)
    return entry[0] if entry is not None else None
