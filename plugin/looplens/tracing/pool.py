"""Run snippets many at a time: a pool of threads, each waiting on one snippet's process.

The same code with the same options runs once per build, and not at all when the cache holds its
result.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from looplens.cache import TraceCache
from looplens.limits import Limits
from looplens.margins import DEFAULT_MIN_MARGIN_MS
from looplens.runtimes.matrix import default_runtime
from looplens.runtimes.runtime import Runtime
from looplens.snippet import Snippet
from looplens.trace import Trace
from looplens.tracing.digests import reread_tracers, runs_digest
from looplens.tracing.run import DEFAULT_LIMITS, runs_for, trace_runs


def default_concurrency() -> int:
    # Snippets mostly wait (on timers, on I/O), so two runs per core keep both cores busy.
    return max(2, 2 * (os.cpu_count() or 1))


class TracePool:
    """Runs traces in the background; the same code with the same options runs only once, and
    not at all when the cache has its trace. A snippet that runs several times (the site's or its
    fence's `runs`, or a nondeterministic one) is one job whose runs go one after the other.
    Each runtime a snippet is proven on is a job of its own."""

    def __init__(
        self,
        concurrency: int = 0,
        options: Limits = DEFAULT_LIMITS,
        cache: TraceCache | None = None,
        runs: int = 1,
        min_margin_ms: float = DEFAULT_MIN_MARGIN_MS,
        report: Callable[[str], None] | None = None,
    ) -> None:
        reread_tracers()  # one pool serves one build
        self._executor = ThreadPoolExecutor(
            max_workers=concurrency or default_concurrency(), thread_name_prefix="looplens"
        )
        self._options = options
        self._cache = cache
        self._runs = runs
        self._min_margin_ms = min_margin_ms
        #: Told (from worker threads) of each run the machine disturbed, which runs again.
        self._report = report
        self._futures: dict[str, Future[tuple[Trace, ...]]] = {}
        # A snippet is submitted when its page is read and looked up when it is rendered: its
        # digest (a hash of its code and of the tracer's) is worth computing once.
        self._digests: dict[tuple[Snippet, int, Runtime], str] = {}
        # Digest of each kept entry's content (a trace, or a set of runs), by its digest: a re-run
        # (after damage, or of a snippet that measures) can differ from an earlier run, so a drawn
        # block is named by the content it was drawn from, never by the inputs alone.
        self._contents: dict[str, str] = {}
        self._lock = threading.Lock()
        self._cached_digests: set[str] = set()
        self.cached = 0
        self.finished = 0
        #: Called from worker threads after each job that really ran: (finished, to run).
        self.on_progress: Callable[[int, int], None] | None = None

    def digest(self, snippet: Snippet, runtime: Runtime | None = None, runs: int = 1) -> str:
        """The name in the cache of the snippet's trace (or of its set of `runs` runs) on
        `runtime` (by default its language's, see runtimes.matrix.default_runtime)."""
        runtime = runtime or default_runtime(snippet.language)
        key = (snippet, runs, runtime)
        if key not in self._digests:
            self._digests[key] = runs_digest(snippet, self._options, runs, runtime)
        return self._digests[key]

    def submit_runs(
        self, snippet: Snippet, runtime: Runtime | None = None
    ) -> Future[tuple[Trace, ...]]:
        """All the runs of a snippet on `runtime`: as many as runs_for says, one or more."""
        runtime = runtime or default_runtime(snippet.language)
        return self._submit(snippet, runtime, runs_for(snippet, self._runs))

    def _submit(self, snippet: Snippet, runtime: Runtime, runs: int) -> Future[tuple[Trace, ...]]:
        digest = self.digest(snippet, runtime, runs)
        if digest not in self._futures:
            cached = self._from_cache(digest, runs)
            if cached is not None:
                self.cached += 1
                self._cached_digests.add(digest)
                self._contents[digest] = cached[1]
                self._futures[digest] = Future()
                self._futures[digest].set_result(cached[0])
            else:
                future = self._executor.submit(self._trace, snippet, runtime, digest, runs)
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

    def _trace(
        self, snippet: Snippet, runtime: Runtime, digest: str, runs: int
    ) -> tuple[Trace, ...]:
        # A run that breached a limit or failed raises TracerError: nothing reaches the cache.
        traces = trace_runs(
            snippet, self._options, runs, self._min_margin_ms, self._report, runtime
        )
        # A truncated trace depends on where the cap fell: run it again rather than keep it. One
        # truncated run keeps its whole set out of the cache.
        if self._cache is not None and not any(trace.truncated for trace in traces):
            if runs == 1:
                self._contents[digest] = self._cache.put(digest, traces[0])
            else:
                self._contents[digest] = self._cache.put_runs(digest, traces)
        return traces

    def content_digest(self, snippet: Snippet, runtime: Runtime | None = None) -> str | None:
        """The digest of the content of the snippet's kept runs on `runtime` (what its drawn
        block is named by); None when they are not kept."""
        return self._contents.get(self._kept_digest(snippet, runtime))

    def forget(self, snippet: Snippet, runtime: Runtime | None = None) -> None:
        """Keep the snippet's runs on `runtime` out of the cache: the next build runs them
        again."""
        digest = self._kept_digest(snippet, runtime)
        self._contents.pop(digest, None)
        if self._cache is not None:
            self._cache.discard(digest)

    def run_set(self, snippet: Snippet, runtime: Runtime | None = None) -> tuple[Trace, ...]:
        """All the runs of a snippet on `runtime`, once they have run; TracerError if one could
        not."""
        return self.submit_runs(snippet, runtime).result()

    @property
    def submitted(self) -> int:
        return len(self._futures)

    def came_from_cache(self, snippet: Snippet, runtime: Runtime | None = None) -> bool:
        """Whether the runs of a snippet on `runtime` were read from the cache, not run."""
        return self._kept_digest(snippet, runtime) in self._cached_digests

    def _kept_digest(self, snippet: Snippet, runtime: Runtime | None) -> str:
        # A snippet's runs are kept as one entry, of as many runs as runs_for says.
        return self.digest(snippet, runtime, runs_for(snippet, self._runs))

    def start_build(self) -> None:
        """A pool kept from one build to the next (`mkdocs serve`'s background runs): the code
        may have changed since, so digests are computed again, and a run that failed runs again
        if asked."""
        reread_tracers()
        self._digests.clear()
        for digest, future in list(self._futures.items()):
            if not future.done():
                continue
            if future.cancelled() or future.exception() is not None:
                del self._futures[digest]
            else:
                # Runs done in an earlier build count, in this one, as kept ones.
                self._cached_digests.add(digest)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
