"""What the documentation says about looplens itself is checked against the real thing."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml
from mkdocs.commands.build import build
from mkdocs.config import load_config

from looplens.checks.expectation import check
from looplens.config import LooplensConfig
from looplens.fences.expected_output import parse_expectation
from looplens.fences.scan import iter_fences
from looplens.trace import JS_QUEUES, PYTHON_QUEUES, PrintedLine, Trace

PROJECT = Path(__file__).parent.parent
GUIDE = PROJECT / "docs" / "contributing" / "writing-snippets.md"

# The page the guide's example message is about: its fences at lines 12 and 19.
EXAMPLE_PAGE = """# Example

Some words about the example, as an article would have them before its
first snippet, so that the fence starts a few lines down the page.

It does not matter what this text says: only the line numbers of the two
fences show up in the message.

More words.

Still more words.
```js {#micro-vs-macro .trace}
console.log("Start");
setTimeout(() => console.log("Timeout"), 0);
Promise.resolve().then(() => console.log("Promise"));
console.log("End");
```

```text {.expect}
Start     sync
End       sync
Timeout   timers
Promise   microtask
```
"""


def test_the_guide_shows_the_real_message_of_a_wrong_expectation(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    documented = next(
        fence.body
        for fence in iter_fences(GUIDE.read_text(encoding="utf-8"))
        if fence.body.startswith("WARNING -  looplens:")
    )
    (tmp_path / "docs" / "node").mkdir(parents=True)
    (tmp_path / "docs" / "node" / "example.md").write_text(EXAMPLE_PAGE)
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: example\nmarkdown_extensions:\n  - attr_list\n  - pymdownx.superfences\n"
        "plugins:\n  - looplens:\n      cache: false\n"
    )
    with caplog.at_level(logging.WARNING):
        build(load_config(str(tmp_path / "mkdocs.yml")))
    [record] = [r for r in caplog.records if "micro-vs-macro" in r.getMessage()]
    # MkDocs prints a warning as "WARNING -  " followed by the plugin's prefixed message.
    assert documented == f"WARNING -  {record.getMessage()}"


def table_rows(heading: str) -> list[list[str]]:
    """The cells of the guide's tables whose header row starts with `heading`, without their
    header and rule rows."""
    rows, inside = [], False
    for line in GUIDE.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith(f"| {heading} |"):
            inside = True
        elif not line.startswith("|"):
            inside = False
        elif inside and not set(line) <= set("|-: "):
            rows.append(cells)
    return rows


def test_the_guide_names_every_queue_of_the_vocabulary() -> None:
    table_queues = [row[0].strip("`") for row in table_rows("queue")]
    assert table_queues == [*JS_QUEUES, *PYTHON_QUEUES]


def test_the_guide_lists_every_plugin_setting_with_its_default() -> None:
    """The settings table is written by hand: a setting added, renamed or given a new default
    must show up here before the guide can mislead anyone."""
    rows = table_rows("setting")
    listed = {name.strip("`"): yaml.safe_load(default.strip("`")) for name, default, _ in rows}
    defaults = {name: option.default for name, option in LooplensConfig._schema}
    assert listed == defaults
    # `true` would equal 1 and `10` would equal 10.0: the kinds must match too.
    assert {name: type(value) for name, value in listed.items()} == {
        name: type(value) for name, value in defaults.items()
    }


def test_the_guide_shows_the_real_sentence_of_a_line_in_the_wrong_turn() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    [documented] = [
        fence.body for fence in iter_fences(guide) if fence.body.startswith("line 27 '")
    ]
    lines = [
        PrintedLine("promise", "stdout", "microtask", 6, 0, turn=0),
        PrintedLine("timeout", "stdout", "timers", 1, 1, turn=1),
        PrintedLine("immediate", "stdout", "check", 3, 1, turn=1),
        PrintedLine("second timeout", "stdout", "timers", 4, 2, turn=3),
    ]
    run = Trace("javascript", "node", 0, tuple(lines), (), ())
    documented_block = next(
        fence.body for fence in iter_fences(guide) if fence.body.startswith("promise  ")
    )
    # The guide's expectation, with the `next turn` the sentence is about, its fence at line 23.
    above, last = documented_block.rsplit("\n", 1)
    wrong = above + "\n" + last.replace("later turn", "next turn")
    mismatch = check(run, parse_expectation(wrong, fence_line=23))
    assert mismatch is not None
    assert mismatch.diff == documented
