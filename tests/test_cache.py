"""The trace cache: atomic, content-addressed, and never an error when an entry is damaged."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest

from looplens import run
from looplens.cache import TraceCache
from looplens.run import TracePool, snippet_digest
from looplens.sandbox import Limits
from looplens.snippet import Snippet
from looplens.trace import Trace

GOLDEN = Path(__file__).parent / "golden" / "micro-vs-macro.trace.json"


def a_trace() -> Trace:
    return Trace.from_json(GOLDEN.read_text(encoding="utf-8"))


def a_snippet(source: str = 'console.log("hi");\n') -> Snippet:
    return Snippet("hi", "javascript", "hi.js", source, "docs/page.md", 1)


def test_an_entry_round_trips(tmp_path: Path) -> None:
    cache = TraceCache(tmp_path)
    assert cache.get("ab" * 32) is None
    cache.put("ab" * 32, a_trace())
    assert cache.get("ab" * 32) == a_trace()


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],
        lambda text: "",
        lambda text: text.replace('"version": 1', '"version": 0'),
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
    assert cache.get(digest) is None
    cache.put(digest, a_trace())
    assert cache.get(digest) == a_trace()


def test_concurrent_writers_never_show_a_reader_half_an_entry(tmp_path: Path) -> None:
    cache = TraceCache(tmp_path)
    digest = "ef" * 32
    seen: list[Trace | None] = []
    stop = threading.Event()

    def write() -> None:
        while not stop.is_set():
            cache.put(digest, a_trace())

    writers = [threading.Thread(target=write) for _ in range(3)]
    for writer in writers:
        writer.start()
    for _ in range(300):
        seen.append(cache.get(digest))
    stop.set()
    for writer in writers:
        writer.join()
    assert all(trace is None or trace == a_trace() for trace in seen)
    assert any(trace is not None for trace in seen)
    assert [path.name for path in tmp_path.rglob("*") if path.is_file()] == [f"{digest}.json"]


def test_a_second_pool_takes_traces_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = TracePool(cache=TraceCache(tmp_path))
    trace = first.result(a_snippet())
    first.close()
    assert [line.text for line in trace.lines] == ["hi"]

    def must_not_run(snippet: Snippet, options: Limits) -> Trace:
        raise AssertionError("traced again although cached")

    monkeypatch.setattr(run, "trace_snippet", must_not_run)
    second = TracePool(cache=TraceCache(tmp_path))
    assert second.result(a_snippet()) == trace
    assert (second.submitted, second.cached) == (1, 1)
    second.close()


def test_a_truncated_trace_is_not_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    truncated = dataclasses.replace(a_trace(), truncated=True)
    monkeypatch.setattr(run, "trace_snippet", lambda snippet, options: truncated)
    pool = TracePool(cache=TraceCache(tmp_path))
    assert pool.result(a_snippet()) == truncated
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
