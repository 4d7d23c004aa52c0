"""Run snippets through the tracer of their language, many at a time.

Each snippet runs from a fresh temporary folder under the name its fence gives it, so the file
name decides CommonJS / ES module / TypeScript, and nothing a snippet writes outlives its run. The
folder's path is replaced in the printed text by DISPLAY_FOLDER, so pages do not depend on temp
names.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from looplens import __version__
from looplens.errors import TracerError
from looplens.node_tracer import trace_javascript
from looplens.snippet import Snippet
from looplens.trace import Trace

DISPLAY_FOLDER = "/looplens"
DEFAULT_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class RunOptions:
    timeout_s: float = DEFAULT_TIMEOUT_S


def trace_snippet(snippet: Snippet, options: RunOptions = RunOptions()) -> Trace:
    """Trace one snippet; raises TracerError (with the snippet's page and line) if it cannot."""
    if snippet.language != "javascript":
        raise TracerError(f"{snippet.where}: tracing {snippet.language} is not supported yet")
    with tempfile.TemporaryDirectory(prefix="looplens-") as folder:
        path = Path(folder) / snippet.filename
        path.write_text(snippet.source, encoding="utf-8")
        try:
            return trace_javascript(path, timeout_s=options.timeout_s, display_path=DISPLAY_FOLDER)
        except TracerError as error:
            raise TracerError(f"{snippet.where}: {error}") from error


def snippet_digest(snippet: Snippet, options: RunOptions) -> str:
    """What decides a result: the code, its file name and language, the limits, the tracer."""
    parts = (snippet.language, snippet.filename, snippet.source, repr(options), __version__)
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def default_concurrency() -> int:
    # Snippets mostly wait (on timers, on I/O), so two runs per core keep both cores busy.
    return max(2, 2 * (os.cpu_count() or 1))


class TracePool:
    """Runs traces in the background; the same code with the same options runs only once."""

    def __init__(self, concurrency: int = 0, options: RunOptions = RunOptions()) -> None:
        self._executor = ThreadPoolExecutor(
            max_workers=concurrency or default_concurrency(), thread_name_prefix="looplens"
        )
        self._options = options
        self._futures: dict[str, Future[Trace]] = {}

    def submit(self, snippet: Snippet) -> Future[Trace]:
        digest = snippet_digest(snippet, self._options)
        if digest not in self._futures:
            self._futures[digest] = self._executor.submit(trace_snippet, snippet, self._options)
        return self._futures[digest]

    def result(self, snippet: Snippet) -> Trace:
        return self.submit(snippet).result()

    @property
    def submitted(self) -> int:
        return len(self._futures)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
