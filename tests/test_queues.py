"""The queue table (looplens.queues) is the one account of the queues: the glossary describes
the same queues, in the same order, for the same runtimes, and every fact a renderer draws from
the table is there for every queue."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from looplens.queues import (
    JS_QUEUES,
    PYTHON_QUEUES,
    QUEUE_TABLE,
    QUEUES,
    QUEUES_BY_NAME,
    glossary_anchor,
)
from looplens.trace import Trace

GLOSSARY = Path(__file__).parent.parent / "docs" / "glossary.md"

#: How the glossary's runtime column names a queue's languages.
RUNTIME_WORDS = {
    ("javascript",): "Node.js",
    ("python",): "asyncio",
    ("javascript", "python"): "both",
}

_QUEUE_ROW = re.compile(r"^\| `(?P<name>[^`]+)`\{ #(?P<anchor>[\w-]+) \} \| (?P<runtime>[^|]+) \|")


def glossary_rows() -> list[tuple[str, str, str]]:
    """(name, anchor, runtime) of each row of the glossary's queue table."""
    return [
        (match["name"], match["anchor"], match["runtime"].strip())
        for line in GLOSSARY.read_text(encoding="utf-8").splitlines()
        if (match := _QUEUE_ROW.match(line))
    ]


def test_the_glossary_has_a_row_and_an_anchor_for_every_queue_in_the_tables_order() -> None:
    rows = glossary_rows()
    assert [name for name, _, _ in rows] == list(QUEUES)
    for name, anchor, runtime in rows:
        queue = QUEUES_BY_NAME[name]
        assert anchor == glossary_anchor(name), f"the glossary row of {name} has another anchor"
        assert runtime == RUNTIME_WORDS[queue.languages], f"the glossary's runtime of {name}"


def test_every_queue_has_a_note_a_colour_and_a_title_except_the_call_stack() -> None:
    for queue in QUEUE_TABLE:
        assert queue.note.endswith("."), queue.name
        assert re.fullmatch(r"#[0-9a-f]{6}", queue.colour), queue.name
        assert (queue.title is None) == (queue.name == "sync"), queue.name
    assert len(QUEUES_BY_NAME) == len(QUEUE_TABLE), "a queue named twice"


def test_the_languages_are_those_a_trace_names() -> None:
    languages = set(typing.get_args(typing.get_type_hints(Trace)["language"]))
    assert {language for queue in QUEUE_TABLE for language in queue.languages} == languages


def test_each_language_lists_the_main_script_first_then_its_own_queues() -> None:
    assert JS_QUEUES[0] == PYTHON_QUEUES[0] == "sync"
    assert set(JS_QUEUES) & set(PYTHON_QUEUES) == {"sync"}
    assert tuple(dict.fromkeys(JS_QUEUES + PYTHON_QUEUES)) == QUEUES
