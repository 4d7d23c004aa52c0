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
    assert table[0].split() == ["#", "printed", "stream", "queue", "turn", "scheduled", "by", "t"]
    assert table[4].split()[:4] == ["4", "Timeout", "stdout", "timers"]
    assert table[4].split()[4].isdigit(), "the loop turn it ran in"
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


# --- limit flags ---------------------------------------------------------------------------------


def _write(tmp_path: Path, name: str, source: str) -> Path:
    path = tmp_path / name
    path.write_text(source)
    return path


@pytest.mark.parametrize(
    ("flags", "reason"),
    [
        (["--timeout", "soon"], "--timeout must be seconds above 0, not 'soon'"),
        (["--timeout", "0"], "--timeout must be seconds above 0, not '0'"),
        (["--output", "lots"], "--output must be a size like 2MB above 0, not 'lots'"),
        (["--output", "0KB"], "--output must be a size like 2MB above 0, not '0KB'"),
        (["--events", "1e3"], "--events must be a count above 0, not '1e3'"),
        (["--events=-5"], "--events must be a count above 0, not '-5'"),
        (["--memory", "2 TB"], "--memory must be a size like 2MB above 0, not '2 TB'"),
    ],
)
def test_bad_limit_flags_exit_2_with_one_line(
    order_js: Path, flags: list[str], reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["trace", str(order_js), *flags]) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", f"looplens: {reason}\n")


def test_output_flag_limits_what_a_run_prints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "flood.py", "for _ in range(100):\n    print('x' * 1000)\n")
    assert main(["trace", str(path), "--output", "200KB"]) == 0
    assert capsys.readouterr().out.count("x" * 1000) == 100
    assert main(["trace", str(path), "--output", "10KB"]) == 2
    assert capsys.readouterr().err == (
        "looplens: flood.py printed more than 10KB (the output limit); the run was ended. "
        "To raise it, pass --output 20KB\n"
    )


def test_memory_flag_limits_a_runs_memory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "big.py", "kept = bytearray(400 * 1024 * 1024)\nprint('kept')\n")
    assert main(["trace", str(path), "--memory", "1GB"]) == 0
    assert "kept" in capsys.readouterr().out
    assert main(["trace", str(path), "--memory", "64MB"]) == 2
    assert capsys.readouterr().err == (
        "looplens: big.py ran out of memory, over 64MB (the memory limit); the run was ended. "
        "To raise it, pass --memory 128MB\n"
    )


def test_events_flag_cuts_the_trace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(
        tmp_path,
        "many.py",
        "import asyncio\n"
        "async def main():\n"
        "    for _ in range(200):\n"
        "        await asyncio.sleep(0)\n"
        "    print('done')\n"
        "asyncio.run(main())\n",
    )
    assert main(["trace", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith("· exit code 0")
    assert main(["trace", str(path), "--events", "50"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[-1].endswith("· exit code 0 · trace truncated")
    assert printed[1].split()[:2] == ["1", "done"]


def test_timeout_flag_names_itself_when_the_run_is_ended(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "spin.py", "while True:\n    pass\n")
    assert main(["trace", str(path), "--timeout", "0.5"]) == 2
    assert capsys.readouterr().err == (
        "looplens: spin.py did not finish within 0.5 s (the time limit); the run was ended. "
        "To raise it, pass --timeout 1.5\n"
    )
