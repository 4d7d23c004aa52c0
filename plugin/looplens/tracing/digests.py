"""Names of traces in the cache: a digest of everything that decides a snippet's result.

The code, its file name and language, its clock and limits, what the sandbox lets it open, the
runtime and its version, and the code that traces it. The last is read by folder: every file
under the folders that run a language's snippets (see TRACER_FOLDERS), so a module added there is
covered without naming it.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
from pathlib import Path

from looplens import PACKAGE_FOLDER
from looplens.limits import Limits
from looplens.runtimes.matrix import default_runtime
from looplens.runtimes.runtime import Runtime
from looplens.snippet import Snippet


def runs_digest(
    snippet: Snippet, options: Limits, runs: int, runtime: Runtime | None = None
) -> str:
    """The cache name of a set of `runs` runs; a single run is named by its snippet's digest."""
    digest = snippet_digest(snippet, options, runtime)
    if runs == 1:
        return digest
    return hashlib.sha256(f"{digest}\0runs={runs}".encode()).hexdigest()


def snippet_digest(snippet: Snippet, options: Limits, runtime: Runtime | None = None) -> str:
    """What decides a result: the code, its file name and language, the limits, the runtime and
    its exact version (by default the language's, runtimes.matrix.default_runtime), and the
    tracer's own code."""
    runtime = runtime or default_runtime(snippet.language)
    parts = (
        snippet.language,
        snippet.filename,
        snippet.source,
        snippet.clock,
        repr(snippet.limits.over(options)),
        ",".join(snippet.allow),
        runtime.identity,
    )
    tracer = tracer_digest(snippet.language)
    return hashlib.sha256("\0".join((*parts, tracer)).encode()).hexdigest()


#: What runs a language's snippets, by folder (every file under it, at any depth): the child-side
#: tracer, the host side that starts and reads it, and what both tracers share (the tracing
#: stage's own modules, the sandbox). The other language's folders are left out.
TRACER_FOLDERS = {
    "javascript": ("tracers/node", "tracing/node"),
    "python": ("tracers/python", "tracing/python"),
}
SHARED_TRACER_FOLDERS = ("tracing", "sandbox", "runtimes")
#: The package's shared values that the tracers build on (tests/test_cache.py checks that the
#: folders and these cover every module a tracer imports).
SHARED_TRACER_MODULES = (
    "__init__.py",
    "errors.py",
    "limits.py",
    # The minimum margin: which turns a reader marks as counted by a clock.
    "margins.py",
    "queues.py",
    "snippet.py",
    "trace.py",
)


#: The folder the tracers' files are read from (a test points it at a copy).
PACKAGE = PACKAGE_FOLDER


def tracer_files(language: str) -> list[Path]:
    """The files whose code produces a language's traces."""
    others = {
        folder
        for other, folders in TRACER_FOLDERS.items()
        if other != language
        for folder in folders
    }
    found: set[Path] = set()
    for folder in (*TRACER_FOLDERS[language], *SHARED_TRACER_FOLDERS):
        found.update(file for file in (PACKAGE / folder).rglob("*") if file.is_file())
    found.update(PACKAGE / module for module in SHARED_TRACER_MODULES)
    return sorted(
        file
        for file in found
        if file.is_file()
        and "__pycache__" not in file.parts
        and not any(file.is_relative_to(PACKAGE / folder) for folder in others)
    )


def tracer_digest(language: str) -> str:
    """A digest of the code that produces a language's traces: a change to it invalidates them."""
    parts = f"{_loaded_code_digest(language)}\0{_spawned_code_digest(language)}"
    return hashlib.sha256(parts.encode()).hexdigest()


def reread_tracers() -> None:
    """Read the tracers' files again at the next digest: a build starts (under `mkdocs serve`,
    which watches them, an edit to one must reach the next build)."""
    _spawned_code_digest.cache_clear()


@functools.cache
def _loaded_code_digest(language: str) -> str:
    # The plugin's modules run in this process, and `mkdocs serve` never reloads them: read once,
    # this names the code that runs. Read again after an edit, it would keep the old code's
    # traces under the new code's name.
    return _files_digest(file for file in tracer_files(language) if not _spawned(file))


@functools.cache
def _spawned_code_digest(language: str) -> str:
    # The tracers proper run inside each snippet's process: an edit reaches the next run. Read
    # once per build, not once per snippet.
    return _files_digest(file for file in tracer_files(language) if _spawned(file))


def _spawned(file: Path) -> bool:
    return file.relative_to(PACKAGE).parts[0] == "tracers"


def _files_digest(files: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.relative_to(PACKAGE).as_posix().encode() + b"\0")
        digest.update(file.read_bytes())
    return digest.hexdigest()
