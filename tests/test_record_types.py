"""The typed records of both tracers: what parse() makes of a raw side-channel record, and that a
kind the readers do not know is skipped without moving the others."""

from __future__ import annotations

from typing import Any

import pytest

from looplens.trace import Stream
from looplens.tracing.node import record_types as node
from looplens.tracing.node.records import build_trace as build_node_trace
from looplens.tracing.python import record_types as asyncio_records
from looplens.tracing.python.records import build_trace as build_python_trace


def test_a_node_init_record_is_typed_with_its_user_frame() -> None:
    raw = {"k": "init", "th": "main", "id": 7, "type": "Timeout", "trigger": 1, "exec": 1}
    raw |= {"line": 3, "api": "setTimeout", "direct": True, "delay": 5}
    assert node.parse(raw) == node.InitRecord(
        "main", 7, "Timeout", 1, 1, 3, None, "setTimeout", True, 5.0, None
    )


def test_a_node_init_record_without_a_user_frame_says_so() -> None:
    raw = {"k": "init", "th": "worker 1", "id": 9, "type": "PROMISE", "trigger": 8, "exec": 8}
    record = node.parse(raw)
    assert isinstance(record, node.InitRecord)
    assert (record.line, record.file, record.api, record.direct, record.delay) == (
        None,
        None,
        None,
        False,
        None,
    )


def test_node_listeners_read_outermost_first() -> None:
    raw = {"k": "died", "th": "main", "exec": 4, "us": 12.0}
    raw |= {"listeners": ["exit", "uncaughtException"], "rejections": True}
    assert node.parse(raw) == node.DiedRecord(
        "main", 4, 12, node.ProcessListeners(("uncaughtException", "exit"), rejections=True)
    )


def test_a_node_print_record_names_its_stream_and_cap_type() -> None:
    raw = {"k": "print", "th": "main", "stream": "stderr", "text": "é\n", "bytes": 3, "exec": 2}
    raw |= {"us": 5, "type": "Immediate"}
    assert node.parse(raw) == node.PrintRecord(
        "main", 2, "stderr", "é\n", 3, 5, False, False, "Immediate", None
    )
    other = node.parse({**raw, "stream": "other", "type": None})
    assert isinstance(other, node.PrintRecord)
    assert (other.stream, other.type) == ("stdout", None)


def test_a_worker_thread_record_names_the_worker_resource_that_made_it() -> None:
    raw = {"k": "thread", "th": "worker 1", "main": "/w.js", "us": 1, "parent": ["main", 12]}
    assert node.parse(raw) == node.ThreadRecord("worker 1", "/w.js", 1, ("main", 12))
    assert node.parse({**raw, "parent": "main"}) == node.ThreadRecord("worker 1", "/w.js", 1, None)


@pytest.mark.parametrize("kind", ["later", ["init"], None])
def test_a_node_record_of_an_unknown_kind_parses_to_nothing(kind: Any) -> None:
    assert node.parse({"k": kind, "th": "main", "id": 1}) is None


def test_parse_all_keeps_each_node_record_at_its_index() -> None:
    raws: list[dict[str, Any]] = [
        {"k": "thread", "th": "main", "main": "/s.js"},
        {"k": "later", "th": "main"},
        {"k": "truncated", "th": "main"},
    ]
    assert node.parse_all(raws) == [
        node.ThreadRecord("main", "/s.js", None, None),
        None,
        node.TruncatedRecord("main"),
    ]


def test_an_asyncio_queued_record_falls_back_to_its_queue_and_due_time() -> None:
    raw = {"k": "q", "id": 4, "queue": "task", "api": None, "line": 8, "parent": 3}
    raw |= {"user": True, "due": 0.0}
    assert asyncio_records.parse(raw) == asyncio_records.QueuedRecord(
        4, 3, "task", "task", 8, True, 0.0, 0.0
    )
    timer = asyncio_records.parse({**raw, "queue": "timers", "due": 10.0, "at": 2.5})
    assert timer == asyncio_records.QueuedRecord(4, 3, "timers", "timers", 8, True, 10.0, 2.5)


def test_an_asyncio_run_record_names_its_thread_or_pool() -> None:
    raw = {"k": "run", "id": 5, "t": 1.5, "th": None}
    assert asyncio_records.parse(raw) == asyncio_records.RanRecord(5, 1.5, "main", None, None)
    work = asyncio_records.parse({**raw, "th": "t", "pool": "asyncio", "api": "f"})
    assert work == asyncio_records.RanRecord(5, 1.5, "t", "asyncio", "f")


def test_an_asyncio_print_record_past_the_cap_keeps_its_queue() -> None:
    raw = {"k": "p", "c": 9, "s": "stdout", "text": "hi\n", "n": 3, "t": 2.0}
    assert asyncio_records.parse(raw) == asyncio_records.PrintedRecord(
        9, "stdout", "hi\n", 3, 2.0, "callback"
    )
    past_cap = asyncio_records.parse({**raw, "s": "stderr", "queue": "timers"})
    assert past_cap == asyncio_records.PrintedRecord(9, "stderr", "hi\n", 3, 2.0, "timers")


@pytest.mark.parametrize("raw", [{"k": "later"}, {}, {"k": ["q"]}])
def test_an_asyncio_record_of_an_unknown_kind_parses_to_nothing(raw: dict[str, Any]) -> None:
    assert asyncio_records.parse(raw) is None


def test_a_node_record_of_an_unknown_kind_is_skipped_in_a_trace() -> None:
    thread: dict[str, Any] = {"k": "thread", "th": "main", "main": "/s.js", "us": 1}
    write: dict[str, Any] = {
        "k": "print",
        "th": "main",
        "stream": "stdout",
        "text": "hi\n",
        "bytes": 3,
    }
    write |= {"exec": 1, "us": 2}
    output: dict[Stream, bytes] = {"stdout": b"hi\n", "stderr": b""}
    known = build_node_trace([thread, write], output, 0, "node test")
    with_unknown = [thread, {"k": "later", "th": "main"}, write]
    assert build_node_trace(with_unknown, output, 0, "node test") == known


def test_an_asyncio_record_of_an_unknown_kind_is_skipped_in_a_trace() -> None:
    start: dict[str, Any] = {"k": "start"}
    write: dict[str, Any] = {"k": "p", "c": 0, "s": "stdout", "text": "hi\n", "n": 3, "t": 0.0}
    output: dict[Stream, bytes] = {"stdout": b"hi\n", "stderr": b""}
    known = build_python_trace([start, write], output, 0, "python test", name="s.py")
    with_unknown = [start, {"k": "later"}, write]
    trace = build_python_trace(with_unknown, output, 0, "python test", name="s.py")
    assert trace == known
