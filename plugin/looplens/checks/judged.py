"""Each snippet of a build judged once, where its author wrote it: the runs the page shows, on
each runtime of the site, and what is wrong with them.

A share page repeats an article's fence: the same runs, judged and reported where the author wrote
the fence (the generated page exists on no disk), and only there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass

from looplens.checks.across import RuntimeJudgement, failure_messages, judge_across
from looplens.checks.expectation import Verdict
from looplens.checks.judge import OrderingsSeen
from looplens.checks.predictable import check_predictable
from looplens.checks.runtimes import RuntimeDifference
from looplens.errors import TracerError
from looplens.margins import DEFAULT_MIN_MARGIN_MS
from looplens.runtimes.matrix import RuntimeMatrix, default_runtime
from looplens.runtimes.report import releases
from looplens.runtimes.runtime import TITLES, Runtime, RuntimeName
from looplens.snippet import Snippet
from looplens.trace import Trace
from looplens.tracing.pool import TracePool


@dataclass(frozen=True, slots=True)
class RuntimeRun:
    """What a snippet did on one runtime: the run its page shows for it."""

    runtime: Runtime
    trace: Trace
    verdict: Verdict | None
    #: A digest of the runs' content as kept in the cache; None when not kept there (cache off,
    #: or a truncated trace).
    digest: str | None = None
    #: For a nondeterministic snippet: its declared orderings and how often each was seen.
    orderings: OrderingsSeen | None = None
    #: How many different schedules its runs had (see judge.Judgement.schedules).
    schedules: int = 1
    #: How it differs from the primary runtime's run; None: the same, or not compared.
    difference: RuntimeDifference | None = None


@dataclass(frozen=True, slots=True)
class TracedSnippet:
    """A snippet with the runs its page shows, the primary runtime's first: what the renderers
    draw."""

    snippet: Snippet
    runs: tuple[RuntimeRun, ...]
    #: Runtimes whose runs had not finished when the page was drawn (`mkdocs serve` shows a page
    #: on the primary runtime first, and draws it again when the others are done).
    pending: tuple[Runtime, ...] = ()

    @property
    def primary(self) -> RuntimeRun:
        return self.runs[0]

    @property
    def digest(self) -> str | None:
        """The digest of every runtime's kept runs together (what the drawn block is named by);
        None when one of them is not kept."""
        digests = [run.digest for run in self.runs]
        if self.pending or any(digest is None for digest in digests):
            return None
        if len(digests) == 1:
            return digests[0]
        named = "\0".join(f"{run.runtime.identity}={run.digest}" for run in self.runs)
        return hashlib.sha256(named.encode()).hexdigest()


class BuildJudge:
    """Submits a build's snippets to the pool as their pages are read, and judges each once."""

    def __init__(
        self,
        pool: TracePool,
        warn: Callable[[str], None],
        min_margin_ms: float = DEFAULT_MIN_MARGIN_MS,
        matrix: RuntimeMatrix | None = None,
        background: TracePool | None = None,
    ) -> None:
        self._pool = pool
        #: Where the other runtimes' runs go when a page must not wait for them (`mkdocs
        #: serve`); None: the build waits for every runtime.
        self._background = background
        self._warn = warn
        self._min_margin_ms = min_margin_ms
        self._matrix = matrix
        self._judgements: dict[
            Snippet, tuple[tuple[RuntimeJudgement, ...], tuple[Runtime, ...]]
        ] = {}
        #: Snippet id → the snippet as its article wrote it (share pages repeat it).
        self._in_articles: dict[str, Snippet] = {}
        #: The runs on the other runtimes, submitted after every primary run (see submit).
        self._later: list[tuple[Snippet, Runtime]] = []
        #: Every snippet of the build by id (a share page repeats an article's), with the
        #: runtimes it runs on: what the build's closing line counts.
        self._runs_of: dict[str, tuple[Snippet, tuple[Runtime, ...]]] = {}
        self._waiting: set[Future[tuple[Trace, ...]]] = set()

    def runtimes(self, snippet: Snippet) -> tuple[Runtime, ...]:
        """The runtimes a snippet runs on, its language's primary first; TracerError when the
        machine has none of them."""
        if self._matrix is None:
            return (default_runtime(snippet.language),)
        found = self._matrix.for_snippet(snippet.language, snippet.runtimes)
        if not found:
            asked = ", ".join(str(selector) for selector in snippet.runtimes)
            raise TracerError(
                f"{snippet.where}: none of the runtimes it runs on is installed here"
                + (f' (runtimes="{asked}")' if asked else "")
                + ": `looplens runtimes` lists what is found"
            )
        return found

    def submit(self, snippets: Iterable[Snippet], *, share_page: bool) -> None:
        """Start a page's snippets running on their primary runtime now, so that they run while
        pages are being read; the other runtimes wait for `submit_later`."""
        for snippet in snippets:
            try:
                primary, *others = self.runtimes(snippet)
            except TracerError:
                continue  # said where the page is drawn, with the page and line
            self._pool.submit_runs(snippet, primary)
            self._later.extend((snippet, runtime) for runtime in others)
            self._runs_of.setdefault(snippet.id, (snippet, (primary, *others)))
            if not share_page:
                self._in_articles[snippet.id] = snippet

    @property
    def _others_pool(self) -> TracePool:
        """Where the runs on the runtimes other than the primary go."""
        return self._background or self._pool

    def submit_later(self) -> None:
        """Queue the runs on the other runtimes, behind every snippet's primary run: the pages
        a reader checks first (on the newest runtime) are ready first."""
        for snippet, runtime in self._later:
            self._others_pool.submit_runs(snippet, runtime)
        self._later.clear()

    def summary(self) -> str:
        """The build's closing count: snippets run this time (on any runtime) and snippets
        whose every run came from the cache, then the runs and the runtimes."""
        traced = cached = runs = 0
        names: set[RuntimeName] = set()
        for snippet, runtimes in self._runs_of.values():
            first, *others = runtimes
            pools = [(self._pool, first)] + [(self._others_pool, other) for other in others]
            from_cache = [pool.came_from_cache(snippet, runtime) for pool, runtime in pools]
            cached += all(from_cache)
            traced += not all(from_cache)
            runs += len(runtimes)
            names.update(runtime.name for runtime in runtimes)
        line = f"{len(self._runs_of)} snippets: {traced} traced, {cached} from the cache"
        if len(names) > len({name.kind for name in names}):
            described = "; ".join(part for kind in TITLES if (part := releases(kind, names)))
            line += f" ({runs} runs on {described})"
        return line

    def pending(self) -> list[Future[tuple[Trace, ...]]]:
        """The background runs that pages of this build were drawn without."""
        return list(self._waiting)

    def traced(self, snippet: Snippet, *, on_share_page: bool) -> TracedSnippet:
        """The snippet's judged runs; LooplensError if one could not run or cannot be shown.
        A wrong run is warned about (once, on its article) and drawn with its verdict."""
        if on_share_page:
            snippet = self._in_articles.get(snippet.id, snippet)
        judgements, pending = self._judgement(snippet)
        if not on_share_page:
            for message in failure_messages(snippet, judgements):
                self._warn(message)
        runs = []
        for index, judged in enumerate(judgements):
            # The primary runtime's runs are this build's; the others may be the background's.
            ran = self._pool if index == 0 else self._others_pool
            judgement = judged.judgement
            check_predictable(snippet, judgement.shown)
            runs.append(
                RuntimeRun(
                    judged.runtime,
                    judgement.shown,
                    judgement.verdict,
                    ran.content_digest(snippet, judged.runtime),
                    judgement.orderings,
                    judgement.schedules,
                    judged.difference,
                )
            )
        return TracedSnippet(snippet, tuple(runs), pending)

    def _judgement(
        self, snippet: Snippet
    ) -> tuple[tuple[RuntimeJudgement, ...], tuple[Runtime, ...]]:
        if snippet not in self._judgements:
            self.submit_later()
            primary, *others = self.runtimes(snippet)
            runs = [(primary, self._pool.run_set(snippet, primary))]
            pending = []
            for runtime in others:
                future = self._others_pool.submit_runs(snippet, runtime)
                if self._background is not None and not future.done():
                    pending.append(runtime)
                    self._waiting.add(future)
                else:
                    runs.append((runtime, future.result()))
            judged = judge_across(snippet, runs, self._min_margin_ms)
            for result in judged:
                if result.judgement.verdict is not None and snippet.measured:
                    # A measured figure can miss its mark on a loaded machine; keeping that run
                    # would fail every later build with the same figures instead of measuring
                    # again.
                    (self._pool if result.runtime == primary else self._others_pool).forget(
                        snippet, result.runtime
                    )
            self._judgements[snippet] = (judged, tuple(pending))
        return self._judgements[snippet]
