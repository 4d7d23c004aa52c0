"""Each snippet of a build judged once, where its author wrote it: the run the page shows, and
what is wrong with it.

A share page repeats an article's fence: the same runs, judged and reported where the author wrote
the fence (the generated page exists on no disk), and only there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from looplens.checks.expectation import Verdict
from looplens.checks.judge import Judgement, OrderingsSeen, judge
from looplens.checks.predictable import check_predictable
from looplens.margins import DEFAULT_MIN_MARGIN_MS
from looplens.snippet import Snippet
from looplens.trace import Trace
from looplens.tracing.pool import TracePool


@dataclass(frozen=True, slots=True)
class TracedSnippet:
    """A snippet with the run its page shows: what the renderers draw."""

    snippet: Snippet
    trace: Trace
    verdict: Verdict | None
    #: A digest of the trace's content as kept in the cache; None when it is not kept there (cache
    #: off, or a truncated trace), and then neither is its drawn block. For a set of runs, the
    #: digest of the whole set: the counts and the drawn run are part of the block.
    digest: str | None = None
    #: For a nondeterministic snippet: its declared orderings and how often each was seen.
    orderings: OrderingsSeen | None = None
    #: How many different schedules its runs had (see judge.Judgement.schedules).
    schedules: int = 1


class BuildJudge:
    """Submits a build's snippets to the pool as their pages are read, and judges each once."""

    def __init__(
        self,
        pool: TracePool,
        warn: Callable[[str], None],
        min_margin_ms: float = DEFAULT_MIN_MARGIN_MS,
    ) -> None:
        self._pool = pool
        self._warn = warn
        self._min_margin_ms = min_margin_ms
        self._judgements: dict[Snippet, Judgement] = {}
        #: Snippet id → the snippet as its article wrote it (share pages repeat it).
        self._in_articles: dict[str, Snippet] = {}

    def submit(self, snippets: Iterable[Snippet], *, share_page: bool) -> None:
        """Start a page's snippets running now, so that they run while pages are being read."""
        for snippet in snippets:
            self._pool.submit_runs(snippet)
            if not share_page:
                self._in_articles[snippet.id] = snippet

    def traced(self, snippet: Snippet, *, on_share_page: bool) -> TracedSnippet:
        """The snippet's judged run; LooplensError if it could not run or cannot be shown.
        A wrong run is warned about (once, on its article) and drawn with its verdict."""
        if on_share_page:
            snippet = self._in_articles.get(snippet.id, snippet)
        judgement = self._judgement(snippet)
        check_predictable(snippet, judgement.shown)
        if judgement.verdict is not None and not on_share_page:
            self._warn(f"{snippet.where}: {judgement.verdict.message()}")
        return TracedSnippet(
            snippet,
            judgement.shown,
            judgement.verdict,
            self._pool.content_digest(snippet),
            judgement.orderings,
            judgement.schedules,
        )

    def _judgement(self, snippet: Snippet) -> Judgement:
        if snippet not in self._judgements:
            judgement = judge(snippet, self._pool.run_set(snippet), self._min_margin_ms)
            if judgement.verdict is not None and snippet.measured:
                # A measured figure can miss its mark on a loaded machine; keeping that run would
                # fail every later build with the same figures instead of measuring again.
                self._pool.forget(snippet)
            self._judgements[snippet] = judgement
        return self._judgements[snippet]
