"""The MkDocs plugin: wires collect → trace → check → render to MkDocs' hooks, and nothing more."""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.livereload import LiveReloadServer
from mkdocs.plugins import BasePlugin, get_plugin_logger
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import AnchorLink
from mkdocs.utils.meta import get_data

from looplens import PACKAGE_FOLDER
from looplens.cache import TraceCache
from looplens.checks.judge import Judgement, judge
from looplens.checks.predictable import check_predictable
from looplens.config import LooplensConfig, site_limits
from looplens.errors import LooplensError
from looplens.fences.collect import collect_snippets
from looplens.fences.options import MAX_RUNS
from looplens.fences.scan import traced_fence_ids
from looplens.render.formatter import FenceRenderer, TracedSnippet
from looplens.site.ids import reject_clashing_ids
from looplens.site.links import SHARE_META_KEY, page_links
from looplens.snippet import Snippet
from looplens.tracing.pool import TracePool

log = get_plugin_logger(__name__)

_TRACERS_FOLDER = PACKAGE_FOLDER / "tracers"
_STYLESHEET = PACKAGE_FOLDER / "assets" / "looplens.css"
_STYLESHEET_URI = "assets/looplens/looplens.css"
_PLAYER = PACKAGE_FOLDER / "assets" / "looplens-player.js"
_PLAYER_URI = "assets/looplens/looplens-player.js"
_PREDICT = PACKAGE_FOLDER / "assets" / "looplens-predict.js"
_PREDICT_URI = "assets/looplens/looplens-predict.js"


def _heading_ids(items: list[AnchorLink]) -> set[str]:
    return {item.id for item in items} | {
        anchor for item in items for anchor in _heading_ids(item.children)
    }


@functools.cache
def _docs_folder(docs_dir: str, project: Path) -> str:
    # Asked for each page, twice: paths are slow to make by the hundred.
    docs = Path(docs_dir)
    return (docs.relative_to(project) if docs.is_relative_to(project) else docs).as_posix()


def _shared_id(markdown: str) -> str | None:
    """The id a generated share page explains, from its front matter; None for other pages."""
    if SHARE_META_KEY not in markdown:
        return None  # most pages: not worth parsing their front matter for it
    _, meta = get_data(markdown)
    value = meta.get(SHARE_META_KEY)
    return str(value) if value is not None else None


class _ProgressLog:
    """Says how far a long cold build is, at most every two seconds, so it never looks stuck."""

    INTERVAL_S = 2.0

    def __init__(self) -> None:
        self._last = time.perf_counter()

    def report(self, finished: int, to_run: int) -> None:
        now = time.perf_counter()
        if now - self._last >= self.INTERVAL_S and finished < to_run:
            self._last = now
            log.info(f"traced {finished}/{to_run} snippets")


class LooplensPlugin(BasePlugin[LooplensConfig]):
    def __init__(self) -> None:
        self._renderer = FenceRenderer()
        self._pool: TracePool | None = None
        self._project = Path.cwd()
        self._started = 0.0
        self._collected: dict[tuple[str, str], list[Snippet]] = {}
        self._judgements: dict[Snippet, Judgement] = {}
        #: Snippet id → the snippet as its article wrote it (share pages repeat it).
        self._in_articles: dict[str, Snippet] = {}

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        if not self.config.enabled:
            return config
        if "pymdownx.superfences" not in config.markdown_extensions:
            raise PluginError(
                "looplens: requires pymdownx.superfences: "
                "add it to markdown_extensions in mkdocs.yml"
            )
        self._project = Path(config.config_file_path).parent
        fences = config.mdx_configs.setdefault("pymdownx.superfences", {})
        ours = self._renderer.custom_fences()
        names = {fence["name"] for fence in ours}
        clashing = [
            fence["name"] for fence in fences.get("custom_fences", []) if fence.get("name") in names
        ]
        if clashing:
            raise PluginError(
                f"looplens: renders ```{clashing[0]} fences itself (plain ones as usual): "
                f"remove the custom fence named '{clashing[0]}' from pymdownx.superfences "
                "in mkdocs.yml"
            )
        theirs = [
            fence for fence in fences.get("custom_fences", []) if fence.get("name") not in names
        ]
        fences["custom_fences"] = [*theirs, *ours]
        if _STYLESHEET_URI not in config.extra_css:
            config.extra_css.append(_STYLESHEET_URI)
        for script in (_PLAYER_URI, _PREDICT_URI):
            if script not in config.extra_javascript:
                config.extra_javascript.append(script)
        return config

    def on_files(self, files: Files, config: MkDocsConfig) -> Files | None:
        if not self.config.enabled:
            return files
        files.append(File.generated(config, _STYLESHEET_URI, abs_src_path=str(_STYLESHEET)))
        files.append(File.generated(config, _PLAYER_URI, abs_src_path=str(_PLAYER)))
        files.append(File.generated(config, _PREDICT_URI, abs_src_path=str(_PREDICT)))
        self._started = time.perf_counter()
        self._collected = {}
        self._judgements = {}
        cache = TraceCache(self._project / self.config.cache_dir) if self.config.cache else None
        if not 1 <= self.config.runs <= MAX_RUNS:
            raise PluginError(
                f"looplens: runs must be from 1 to {MAX_RUNS}, not {self.config.runs}"
            )
        self._pool = TracePool(
            self.config.concurrency, site_limits(self.config), cache, self.config.runs
        )
        self._renderer.use_cache(cache)
        self._pool.on_progress = _ProgressLog().report
        # Submit every snippet of the build now, so they all run while pages are being read.
        pages = []
        self._in_articles = {}
        for file in files.documentation_pages():
            snippets = self._collect(file.content_string, self._page_path(config, file.src_uri))
            shared = _shared_id(file.content_string)
            pages.append((snippets, shared))
            for snippet in snippets:
                self._pool.submit_runs(snippet)
                if shared is None:
                    self._in_articles[snippet.id] = snippet
        try:
            reject_clashing_ids(pages)
        except LooplensError as error:
            raise PluginError(str(error)) from error
        return files

    def on_page_markdown(
        self, markdown: str, /, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        if not self.config.enabled or self._pool is None:
            return markdown
        page_path = self._page_path(config, page.file.src_uri)
        shared = page.meta.get(SHARE_META_KEY) is not None  # the front matter is read by now
        traced = {}
        for snippet in self._collect(markdown, page_path):
            # A share page repeats an article's fence: the same run, judged and reported where
            # the author wrote it (the generated page exists on no disk), and only there.
            written = self._in_articles.get(snippet.id, snippet) if shared else snippet
            traced[snippet.id] = self._trace_and_check(written, report=not shared)
        links = page_links(page.file, files, self.config.glossary, traced)
        self._renderer.start_page(page_path, traced, links)
        return markdown

    def on_page_content(
        self, html: str, /, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        # MkDocs validates links to anchors from the HTML it sees before SuperFences' output is
        # put back, so it cannot see the snippets' ids: declare them.
        if not self.config.enabled:
            # Tracing off, a traced fence is a plain code block that SuperFences gives its id.
            if page.present_anchor_ids is not None:
                page.present_anchor_ids |= traced_fence_ids(page.markdown or "")
            return html
        rendered = self._renderer.anchor_ids()
        if page.present_anchor_ids is not None:
            page.present_anchor_ids |= rendered
        headings = _heading_ids(page.toc.items)
        for snippet_id in sorted(rendered & headings):
            log.warning(
                f"{self._page_path(config, page.file.src_uri)}: snippet id '{snippet_id}' is also "
                "the id of a heading on the page: rename one, a link cannot reach both"
            )
        return html

    def on_post_build(self, config: MkDocsConfig) -> None:
        if self._pool is None:
            return
        elapsed = time.perf_counter() - self._started
        total, cached = self._pool.submitted, self._pool.cached
        log.info(
            f"{total} snippets: {total - cached} traced, {cached} from the cache, "
            f"in {elapsed:.1f} s"
        )
        self._pool.close()
        self._pool = None
        self._collected = {}
        self._judgements = {}

    def on_build_error(self, error: Exception) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def on_serve(
        self, server: LiveReloadServer, /, *, config: MkDocsConfig, builder: Any
    ) -> LiveReloadServer | None:
        snippets = self._project / self.config.snippets_dir
        if snippets.is_dir():
            server.watch(str(snippets))
        server.watch(str(_TRACERS_FOLDER))
        return server

    def _collect(self, markdown: str, page_path: str) -> list[Snippet]:
        # A page is scanned in on_files and again in on_page_markdown, where another plugin may
        # have changed it; unchanged, the first scan stands.
        key = (page_path, markdown)
        if key not in self._collected:
            self._collected[key] = self._scan(markdown, page_path)
        return self._collected[key]

    def _scan(self, markdown: str, page_path: str) -> list[Snippet]:
        roots = [self._project / self.config.snippets_dir, self._project]
        try:
            return collect_snippets(markdown, page_path, roots)
        except LooplensError as error:
            raise PluginError(str(error)) from error

    def _trace_and_check(self, snippet: Snippet, *, report: bool = True) -> TracedSnippet:
        assert self._pool is not None
        try:
            runs = self._pool.run_set(snippet)
        except LooplensError as error:
            raise PluginError(str(error)) from error
        # A share page repeats its article's fence: judged once (both wait on the same runs).
        judgement = self._judgements.get(snippet) or judge(snippet, runs)
        self._judgements[snippet] = judgement
        if judgement.verdict is not None and snippet.measured:
            # A measured figure can miss its mark on a loaded machine; keeping that run would
            # fail every later build with the same figures instead of measuring again.
            self._pool.forget(snippet)
        try:
            check_predictable(snippet, judgement.shown)
        except LooplensError as error:
            raise PluginError(str(error)) from error
        if judgement.verdict is not None and report:
            log.warning(f"{snippet.where}: {judgement.verdict.message()}")
        return TracedSnippet(
            snippet,
            judgement.shown,
            judgement.verdict,
            self._pool.content_digest(snippet),
            judgement.orderings,
            judgement.schedules,
        )

    def _page_path(self, config: MkDocsConfig, src_uri: str) -> str:
        # Messages name pages from the project folder ("docs/a.md"), as a contributor sees them.
        folder = _docs_folder(config.docs_dir, self._project)
        return src_uri if folder == "." else f"{folder}/{src_uri}"
