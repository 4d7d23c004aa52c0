"""What a build or `looplens runtimes` says about the runtime matrix it found."""

from __future__ import annotations

from collections.abc import Iterable

from looplens.runtimes.matrix import RuntimeMatrix
from looplens.runtimes.runtime import TITLES, RuntimeName


def releases(kind: str, names: Iterable[RuntimeName]) -> str:
    """ "Node 20, 22, 24": one language's releases, oldest first."""
    chosen = sorted((name for name in names if name.kind == kind), key=lambda name: name.sort_key)
    return f"{TITLES[kind]} " + ", ".join(name.release for name in chosen) if chosen else ""


def matrix_report(matrix: RuntimeMatrix) -> str:
    """One line: what snippets are proven on, and what was asked for but not found."""
    found = [runtime.name for runtime in matrix.runtimes]
    proven = "; ".join(part for kind in TITLES if (part := releases(kind, found))) or "nothing"
    line = f"proving snippets on {proven}"
    if matrix.missing:
        missing = "; ".join(part for kind in TITLES if (part := releases(kind, matrix.missing)))
        line += (
            f"; not found on this machine: {missing} (snippets are not proven there: "
            "`looplens runtimes install` installs Node releases, a CPython comes from the "
            "system or pyenv)"
        )
    return line
