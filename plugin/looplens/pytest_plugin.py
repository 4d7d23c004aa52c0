"""pytest plugin: every traced snippet is a test item.

- Each traced fence of a Markdown page under the docs folder is an item named `page.md::id`; it
  runs on every runtime of `looplens_runtimes` found here (as a build proves it) and fails with
  the diff when a real output differs from the expected output, or from the primary runtime's
  where the page declares no difference.
- Each snippet file under the snippets folder is an item that fails when its traced output, on
  any of those runtimes, is not exactly what the same runtime prints without the tracer.
- Traced Python fences are this plugin's to run: pytest-markdown-docs, which runs every other
  Python fence of the docs, leaves them alone.
"""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from looplens.checks.across import failure_messages, judge_across
from looplens.fences.collect import collect_snippets
from looplens.fences.scan import TRACE_CLASS, iter_fences
from looplens.limits import DEFAULT_TIMEOUT_S
from looplens.runtimes.matrix import DEFAULT_RUNTIMES, RuntimeMatrix, find_runtimes
from looplens.sandbox.environment import python_environment
from looplens.snippet import FILE_LANGUAGES, Snippet
from looplens.trace import Trace
from looplens.tracing.run import DEFAULT_LIMITS, runs_for, trace_file, trace_runs


class SnippetCheckError(Exception):
    """A snippet's run disagreed with what it should print."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("looplens_docs", "folder of Markdown pages with traced fences", default="docs")
    parser.addini("looplens_snippets", "folder of snippet files", default="snippets")
    parser.addini(
        "looplens_runtimes",
        "runtimes to prove snippets on (node@MAJOR, python@MAJOR.MINOR)",
        type="linelist",
        default=list(DEFAULT_RUNTIMES),
    )


def _matrix(config: pytest.Config) -> RuntimeMatrix:
    # Found once per session: every item asks.
    found: RuntimeMatrix | None = getattr(config, "_looplens_matrix", None)
    if found is None:
        found = find_runtimes(config.getini("looplens_runtimes"))
        config._looplens_matrix = found  # type: ignore[attr-defined]
    return found


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    config = parent.config
    docs = config.rootpath / str(config.getini("looplens_docs"))
    snippets = config.rootpath / str(config.getini("looplens_snippets"))
    if file_path.suffix == ".md" and file_path.is_relative_to(docs):
        return TracedPage.from_parent(parent, path=file_path)
    if file_path.suffix in FILE_LANGUAGES and file_path.is_relative_to(snippets):
        return SnippetFile.from_parent(parent, path=file_path)
    return None


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    traced = [item for item in items if _is_traced_markdown_docs_fence(item)]
    if traced:
        config.hook.pytest_deselected(items=traced)
        items[:] = [item for item in items if item not in traced]


def _is_traced_markdown_docs_fence(item: pytest.Item) -> bool:
    # pytest-markdown-docs items carry a FenceTestDefinition whose start_line is the 1-based line
    # of the opening fence; ours are known by their `.trace` class at that line.
    definition = getattr(item, "test_definition", None)
    path = getattr(definition, "source_path", None)
    if path is None or Path(path).suffix != ".md":
        return False
    return getattr(definition, "start_line", None) in _traced_fence_lines(Path(path))


@functools.cache
def _traced_fence_lines(path: Path) -> frozenset[int]:
    markdown = path.read_text(encoding="utf-8")
    return frozenset(fence.line for fence in iter_fences(markdown) if TRACE_CLASS in fence.classes)


class TracedPage(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        root = self.config.rootpath
        page = self.path.relative_to(root).as_posix()
        include_roots = [root / str(self.config.getini("looplens_snippets")), root]
        markdown = self.path.read_text(encoding="utf-8")
        for snippet in collect_snippets(markdown, page, include_roots):
            yield TracedSnippetItem.from_parent(self, name=snippet.id, snippet=snippet)


class _CheckItem(pytest.Item):
    """A check whose failure is its message alone: it names the page, the snippet and the line."""

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str | Any:
        if isinstance(excinfo.value, SnippetCheckError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class TracedSnippetItem(_CheckItem):
    def __init__(self, *, snippet: Snippet, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.snippet = snippet

    def runtest(self) -> None:
        # The same judgement as the build's: a nondeterministic snippet runs as often as it asks,
        # on each runtime, and the runtimes' runs are compared.
        snippet = self.snippet
        runtimes = _matrix(self.config).for_snippet(snippet.language, snippet.runtimes)
        if not runtimes:
            pytest.skip(f"{snippet.where}: none of its runtimes is installed here")
        runs = [
            (runtime, trace_runs(snippet, DEFAULT_LIMITS, runs_for(snippet, 1), runtime=runtime))
            for runtime in runtimes
        ]
        failures = failure_messages(snippet, judge_across(snippet, runs))
        if failures:
            raise SnippetCheckError("\n\n".join(failures))

    def reportinfo(self) -> tuple[Path, int, str]:
        # pytest shows `path::domain` and reads dots in the domain as nesting: give the bare id.
        return self.path, self.snippet.line - 1, self.snippet.id


class SnippetFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        yield SnippetFileItem.from_parent(self, name="traced-output-equals-plain-run")


class SnippetFileItem(_CheckItem):
    def runtest(self) -> None:
        language = FILE_LANGUAGES[self.path.suffix]
        for runtime in _matrix(self.config).for_language(language):
            traced = trace_file(self.path, timeout_s=DEFAULT_TIMEOUT_S, runtime=runtime)
            python = language == "python"
            plain = subprocess.run(
                [str(runtime.executable), str(self.path)],
                cwd=self.path.parent,
                capture_output=True,
                timeout=30,
                check=False,
                env=python_environment() if python else None,
            )
            for stream, output in (("stdout", plain.stdout), ("stderr", plain.stderr)):
                expected = _output_lines(output.decode("utf-8", errors="replace"))
                if _lines(traced, stream) != expected:
                    raise SnippetCheckError(
                        f"{self.path.name} on {runtime.name.title}: traced {stream} differs "
                        f"from a plain run:\nplain:  {expected!r}\ntraced: "
                        f"{_lines(traced, stream)!r}"
                    )

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, self.name


def _output_lines(text: str) -> list[str]:
    # As the tracers split output: on "\n" only, a last line without newline still a line.
    lines = text.split("\n")
    return lines[:-1] if lines[-1] == "" else lines


def _lines(trace: Trace, stream: str) -> list[str]:
    return [line.text for line in trace.lines if line.stream == stream]
