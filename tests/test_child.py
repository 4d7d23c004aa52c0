"""The tracers' child runner (tracing/child.py): the side channel, the out-of-memory check, and
the variable names that the host and the in-runtime tracers must spell alike."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from looplens import PACKAGE_FOLDER
from looplens.limits import LimitError, Limits
from looplens.sandbox.environment import python_environment
from looplens.snippet import Language
from looplens.tracing import child
from looplens.tracing.child import FinishedChild, parse_records, run_child

#: The variables each language's in-runtime tracer reads.
READ_BY: dict[Language, tuple[str, ...]] = {
    "javascript": (
        child.TRACE_FD_VARIABLE,
        child.TRACE_LIMIT_VARIABLE,
        child.HIDDEN_ARGS_VARIABLE,
    ),
    "python": (
        child.TRACE_FD_VARIABLE,
        child.TRACE_LIMIT_VARIABLE,
        child.VIRTUAL_TIME_VARIABLE,
        child.SANDBOX_VARIABLE,
    ),
}
#: The in-runtime tracer's sources, by language: whichever file of them reads a variable.
CHILD_SOURCES: dict[Language, tuple[str, ...]] = {
    "javascript": ("tracers/node/*.cjs", "tracers/node/*.js", "tracers/node/*.mjs"),
    "python": ("tracers/python/*.py",),
}


def _child_source(language: Language) -> str:
    files = [file for pattern in CHILD_SOURCES[language] for file in PACKAGE_FOLDER.glob(pattern)]
    assert files, f"no tracer sources for {language}"
    return "\n".join(file.read_text(encoding="utf-8") for file in sorted(files))


@pytest.mark.parametrize("language", ["javascript", "python"])
def test_every_variable_the_host_sends_is_spelled_alike_in_the_child(language: Language) -> None:
    source = _child_source(language)
    missing = [name for name in READ_BY[language] if not re.search(rf"(['\"]){name}\1", source)]
    assert missing == []


def test_every_host_variable_is_checked_against_a_child() -> None:
    defined = {value for key, value in vars(child).items() if key.endswith("_VARIABLE")}
    checked = {name for names in READ_BY.values() for name in names}
    assert defined == checked


def test_a_record_cut_short_is_left_out() -> None:
    data = b'{"k": "start"}\n{"k": "ran", "n": 1}\n{"k": "cu'
    assert parse_records(data) == [{"k": "start"}, {"k": "ran", "n": 1}]


#: A child that writes records as a tracer would, prints on both streams, and exits with argv[1].
CHILD = f"""\
import os, sys
fd = int(os.environ["{child.TRACE_FD_VARIABLE}"])
os.write(fd, b'{{"k": "start"}}\\n{{"k": "ran", "n": 1}}\\n{{"k": "cu')
print(os.environ["GIVEN"])
print("MemoryError", file=sys.stderr)
sys.exit(int(sys.argv[1]))
"""


def _run(tmp_path: Path, exit_code: int, *, out_of_memory: bool = False) -> FinishedChild:
    path = tmp_path / "snippet.py"
    path.write_text(CHILD, encoding="utf-8")
    return run_child(
        [sys.executable, str(path), str(exit_code)],
        path=path,
        environment={**python_environment(), "GIVEN": "given"},
        limits=Limits(),
        language="python",
        allow=(),
        out_of_memory=lambda stderr: out_of_memory and stderr.startswith(b"MemoryError"),
    )


def test_a_finished_child_gives_its_output_exit_code_records_and_arrivals(tmp_path: Path) -> None:
    finished = _run(tmp_path, 3)
    assert finished.output() == {"stdout": b"given\n", "stderr": b"MemoryError\n"}
    assert finished.exit_code == 3
    assert finished.records == ({"k": "start"}, {"k": "ran", "n": 1})
    assert finished.started_as("start")
    assert not finished.started_as("thread")
    assert finished.arrivals["stdout"][-1][0] == len(finished.stdout)
    assert finished.arrivals["stderr"][-1][0] == len(finished.stderr)


def test_a_child_that_failed_out_of_memory_is_a_memory_breach(tmp_path: Path) -> None:
    with pytest.raises(LimitError) as caught:
        _run(tmp_path, 1, out_of_memory=True)
    assert caught.value.limit == "memory_bytes"
    assert caught.value.happened.startswith("snippet.py ran out of memory, over ")


def test_a_child_that_succeeded_is_no_breach_whatever_it_printed(tmp_path: Path) -> None:
    assert _run(tmp_path, 0, out_of_memory=True).exit_code == 0
