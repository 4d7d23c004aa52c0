"""`looplens trace FILE`: formats, fields and exit statuses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from looplens.cli import main

ORDER = """\
console.log("Start");
setTimeout(() => console.log("Timeout"), 0);
Promise.resolve().then(() => console.log("Promise"));
console.log("End");
"""


@pytest.fixture
def order_js(tmp_path: Path) -> Path:
    path = tmp_path / "order.js"
    path.write_text(ORDER)
    return path


def test_json_has_the_documented_fields(order_js: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trace", str(order_js), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["runtime"].startswith("node 24.")
    assert data["exit_code"] == 0
    assert [(line["text"], line["queue"], line["line"]) for line in data["lines"]] == [
        ("Start", "sync", None),
        ("End", "sync", None),
        ("Promise", "microtask", 3),
        ("Timeout", "timers", 2),
    ]
    assert {line["stream"] for line in data["lines"]} == {"stdout"}
    assert [line["t"] for line in data["lines"]] == [0, 0, 0, 1]


def test_table_and_mermaid_formats(order_js: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trace", str(order_js)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["#", "printed", "stream", "queue", "scheduled", "by", "t"]
    assert table[4].split()[:4] == ["4", "Timeout", "stdout", "timers"]
    assert table[-1].startswith("node 24.") and table[-1].endswith("· exit code 0")
    assert main(["trace", str(order_js), "--format", "mermaid"]) == 0
    assert capsys.readouterr().out.startswith("sequenceDiagram\n")


def test_a_snippet_that_throws_was_still_traced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "throws.js"
    path.write_text('console.log("before");\nthrow new Error("boom");\n')
    assert main(["trace", str(path), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["exit_code"] == 1
    assert data["lines"][0]["text"] == "before"
    assert any(
        line["stream"] == "stderr" and "Error: boom" in line["text"] for line in data["lines"]
    )


@pytest.mark.parametrize(
    ("name", "reason"),
    [("missing.js", "no such file"), ("notes.txt", "cannot trace '.txt' files")],
)
def test_untraceable_input_exits_2_with_one_line(
    tmp_path: Path, name: str, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if name.endswith(".txt"):
        (tmp_path / name).write_text("hello")
    assert main(["trace", str(tmp_path / name)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert reason in captured.err
    assert captured.err.count("\n") == 1


def test_the_console_script_runs(order_js: Path) -> None:
    looplens = Path(sys.executable).parent / "looplens"
    result = subprocess.run(
        [str(looplens), "trace", str(order_js), "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout)["lines"][2]["text"] == "Promise"


def test_allow_opens_the_sandbox_as_a_fence_would(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "worker.js"
    path.write_text(
        'const { Worker } = require("node:worker_threads");\n'
        'new Worker("console.log(\\"from the worker\\")", { eval: true });\n'
    )
    assert main(["trace", str(path), "--format", "json"]) == 0
    denied = json.loads(capsys.readouterr().out)
    assert denied["exit_code"] == 1
    assert any("ERR_ACCESS_DENIED" in line["text"] for line in denied["lines"])
    assert main(["trace", str(path), "--format", "json", "--allow", "worker"]) == 0
    allowed = json.loads(capsys.readouterr().out)
    assert [line["text"] for line in allowed["lines"]] == ["from the worker"]
    assert main(["trace", str(path), "--allow", "everything"]) == 2
    assert "--allow cannot open 'everything'" in capsys.readouterr().err
