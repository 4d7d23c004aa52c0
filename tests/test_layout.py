"""The package's layout tells the flow of a snippet: these checks keep it telling it.

A stage imports only the stages before it (and the shared values at the package's top); the
child-side tracers import nothing of looplens but each other (they run inside the snippet's
process, where the package is not on the path); modules and functions stay small enough to read
in one go.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from looplens import PACKAGE_FOLDER

#: The stages in the order a snippet goes through them: a stage may import those before it.
STAGES = ("fences", "sandbox", "tracing", "checks", "render", "site")
MAX_MODULE_LINES = 350
MAX_FUNCTION_LINES = 60

MODULES = sorted(PACKAGE_FOLDER.rglob("*.py"))


def _name(path: Path) -> str:
    return path.relative_to(PACKAGE_FOLDER).as_posix()


def _imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("module", MODULES, ids=_name)
def test_a_stage_imports_only_the_stages_before_it(module: Path) -> None:
    top = module.relative_to(PACKAGE_FOLDER).parts[0]
    if top == "tracers":
        # Their siblings only, under the name the host imports them by.
        outside = [
            name
            for name in _imports(module)
            if name.split(".")[0] == "looplens" and not name.startswith("looplens.tracers.")
        ]
        assert outside == []
        return
    if top not in STAGES:
        return  # the shared values and the entry points
    later = STAGES[STAGES.index(top) + 1 :]
    upward = [
        name
        for name in _imports(module)
        if name.startswith("looplens.") and name.split(".")[1] in later
    ]
    assert upward == [], f"{_name(module)} imports a later stage"


@pytest.mark.parametrize("module", MODULES, ids=_name)
def test_modules_and_functions_are_short(module: Path) -> None:
    source = module.read_text(encoding="utf-8")
    assert len(source.splitlines()) <= MAX_MODULE_LINES
    long_functions = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long_functions == []


@pytest.mark.parametrize(
    "script",
    sorted(PACKAGE_FOLDER.rglob("*.cjs")) + sorted(PACKAGE_FOLDER.rglob("*.js")),
    ids=_name,
)
def test_scripts_are_short(script: Path) -> None:
    assert len(script.read_text(encoding="utf-8").splitlines()) <= MAX_MODULE_LINES
