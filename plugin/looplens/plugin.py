"""The MkDocs plugin: wires the stages (fences → tracing → checks → render, and the site's pages)
to MkDocs' hooks, and nothing more."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.livereload import LiveReloadServer
from mkdocs.plugins import BasePlugin, get_plugin_logger
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from looplens import PACKAGE_FOLDER
from looplens.cache import TraceCache
from looplens.checks.judged import BuildJudge
from looplens.config import LooplensConfig, check_config, runtime_names, site_limits
from looplens.errors import LooplensError
from looplens.fences.pages import PageSnippets
from looplens.fences.scan import traced_fence_ids
from looplens.render.fence_registration import register_fences
from looplens.render.formatter import FenceRenderer
from looplens.runtimes.matrix import RuntimeMatrix, find_runtimes
from looplens.runtimes.report import matrix_report
from looplens.runtimes.runtime import RuntimeName
from looplens.site.assets import asset_files, link_assets
from looplens.site.ids import ids_also_headings, reject_clashing_ids
from looplens.site.links import SHARE_META_KEY, page_links
from looplens.site.mermaid import MERMAID_VERSION, mermaid_file
from looplens.site.pages import heading_ids, page_path, shared_id
from looplens.site.serve_refresh import refresh_folder, refresh_when_done
from looplens.site.share import article_description
from looplens.snippet import Snippet
from looplens.tracing.pool import TracePool
from looplens.tracing.progress import ProgressLog

log = get_plugin_logger(__name__)

_TRACERS_FOLDER = PACKAGE_FOLDER / "tracers"

_Result = TypeVar("_Result")


def _reported(step: Callable[[], _Result]) -> _Result:
    """Run a stage; its LooplensError (which names page, line and snippet) fails the build."""
    try:
        return step()
    except LooplensError as error:
        raise PluginError(str(error)) from error


class LooplensPlugin(BasePlugin[LooplensConfig]):
    def __init__(self) -> None:
        self._renderer = FenceRenderer()
        self._pool: TracePool | None = None
        self._judge: BuildJudge | None = None
        self._pages = PageSnippets(())
        self._project = Path.cwd()
        self._started = 0.0
        self._matrix: RuntimeMatrix | None = None
        self._matrix_names: tuple[RuntimeName, ...] = ()
        #: `mkdocs serve`: pages are drawn on the primary runtimes first, the others run here, in
        #: a pool kept from one build to the next, and the pages are drawn again when they end.
        self._serving = False
        self._background: TracePool | None = None

    def on_startup(self, *, command: str, dirty: bool) -> None:
        self._serving = command == "serve"

    def on_shutdown(self) -> None:
        if self._background is not None:
            self._background.close()
            self._background = None

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        if not self.config.enabled:
            return config
        check_config(self.config)
        self._matrix = self._find_runtimes()
        self._project = Path(config.config_file_path).parent
        register_fences(config, self._renderer.custom_fences())
        link_assets(config)
        return config

    def on_files(self, files: Files, config: MkDocsConfig) -> Files | None:
        if not self.config.enabled:
            return files
        for asset in asset_files(config):
            files.append(asset)
        if not mermaid_file().is_file():
            log.warning(
                f"Mermaid {MERMAID_VERSION} is not installed here, so the diagram tabs show "
                "their source: run `looplens install`"
            )
        self._start_build()
        assert self._judge is not None
        pages = []
        for file in files.documentation_pages():
            markdown = file.content_string
            snippets = self._snippets(
                markdown, page_path(config.docs_dir, self._project, file.src_uri)
            )
            shared = shared_id(markdown)
            pages.append((snippets, shared))
            self._judge.submit(snippets, share_page=shared is not None)
        self._judge.submit_later()
        _reported(lambda: reject_clashing_ids(pages))
        return files

    def on_page_markdown(
        self, markdown: str, /, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        judge = self._judge
        if not self.config.enabled or judge is None:
            return markdown
        path = page_path(config.docs_dir, self._project, page.file.src_uri)
        shared = page.meta.get(SHARE_META_KEY) is not None  # the front matter is read by now
        if "description" not in page.meta and (description := article_description(markdown)):
            # Its own words in a link's preview, not the site's description on every page.
            page.meta["description"] = description
        traced = {
            snippet.id: _reported(functools.partial(judge.traced, snippet, on_share_page=shared))
            for snippet in self._snippets(markdown, path)
        }
        links = page_links(page.file, files, self.config.glossary, traced)
        self._renderer.start_page(path, traced, links)
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
        path = page_path(config.docs_dir, self._project, page.file.src_uri)
        for warning in ids_also_headings(path, rendered, heading_ids(page.toc.items)):
            log.warning(warning)
        return html

    def on_post_build(self, config: MkDocsConfig) -> None:
        if self._pool is None:
            return
        elapsed = time.perf_counter() - self._started
        if self._judge is not None:
            refresh_when_done(self._refresh_folder(), self._judge.pending(), log.info)
            log.info(f"{self._judge.summary()}, in {elapsed:.1f} s")
        self._end_build()

    def on_build_error(self, error: Exception) -> None:
        self._end_build()

    def on_serve(
        self, server: LiveReloadServer, /, *, config: MkDocsConfig, builder: Any
    ) -> LiveReloadServer | None:
        snippets = self._project / self.config.snippets_dir
        if snippets.is_dir():
            server.watch(str(snippets))
        server.watch(str(_TRACERS_FOLDER))
        refresh = self._refresh_folder()
        refresh.mkdir(parents=True, exist_ok=True)
        server.watch(str(refresh))
        return server

    def _start_build(self) -> None:
        # Every build starts afresh (mkdocs serve rebuilds in this process): only the cache
        # on disk carries results from one build to the next.
        self._started = time.perf_counter()
        cache = TraceCache(self._project / self.config.cache_dir) if self.config.cache else None
        self._pool = self._new_pool(cache)
        self._pool.on_progress = ProgressLog(log.info).report
        if self._serving and self._background is None:
            self._background = self._new_pool(cache)
        if self._background is not None:
            self._background.start_build()
        self._judge = BuildJudge(
            self._pool, log.warning, self.config.min_margin_ms, self._matrix, self._background
        )
        self._renderer.use_cache(cache)
        self._pages = PageSnippets([self._project / self.config.snippets_dir, self._project])

    def _refresh_folder(self) -> Path:
        return refresh_folder(self._project / self.config.cache_dir)

    def _new_pool(self, cache: TraceCache | None) -> TracePool:
        return TracePool(
            self.config.concurrency,
            site_limits(self.config),
            cache,
            self.config.runs,
            self.config.min_margin_ms,
            log.info,
        )

    def _find_runtimes(self) -> RuntimeMatrix:
        # Once per set of names: `mkdocs serve` calls on_config at every rebuild (MkDocs keeps
        # the plugin's instance, even for another config in the same process), and the
        # machine's runtimes do not change while it serves.
        names = runtime_names(self.config)
        if self._matrix is None or self._matrix_names != names:
            matrix = find_runtimes(names)
            message = matrix_report(matrix)
            if matrix.missing and self.config.require_runtimes:
                raise PluginError(f"looplens: {message} (require_runtimes is on)")
            log.info(message)
            self._matrix, self._matrix_names = matrix, names
        return self._matrix

    def _end_build(self) -> None:
        if self._pool is not None:
            self._pool.close()
        self._pool = None
        self._judge = None
        self._pages = PageSnippets(())

    def _snippets(self, markdown: str, path: str) -> list[Snippet]:
        return _reported(lambda: self._pages.of(markdown, path))
