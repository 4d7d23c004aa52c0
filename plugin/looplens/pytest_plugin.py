"""pytest plugin: every traced snippet is a test item.

- Each traced fence of a Markdown page under the docs folder is an item named `page.md::id`; it
  fails with the diff when the real output differs from the expected output.
- Each snippet file under the snippets folder is an item that fails when its traced output is not
  exactly what the same runtime prints without the tracer.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from looplens.collect import collect_snippets
from looplens.expectation import check
from looplens.node_tracer import trace_javascript
from looplens.run import trace_snippet
from looplens.runtimes import node_binary
from looplens.snippet import FILE_LANGUAGES, Snippet
from looplens.trace import Trace


class SnippetCheckError(Exception):
    """A snippet's run disagreed with what it should print."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("looplens_docs", "folder of Markdown pages with traced fences", default="docs")
    parser.addini("looplens_snippets", "folder of snippet files", default="snippets")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    config = parent.config
    docs = config.rootpath / str(config.getini("looplens_docs"))
    snippets = config.rootpath / str(config.getini("looplens_snippets"))
    if file_path.suffix == ".md" and file_path.is_relative_to(docs):
        return TracedPage.from_parent(parent, path=file_path)
    if FILE_LANGUAGES.get(file_path.suffix) == "javascript" and file_path.is_relative_to(snippets):
        return SnippetFile.from_parent(parent, path=file_path)
    return None


class TracedPage(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        root = self.config.rootpath
        page = self.path.relative_to(root).as_posix()
        include_roots = [root / str(self.config.getini("looplens_snippets")), root]
        markdown = self.path.read_text(encoding="utf-8")
        for snippet in collect_snippets(markdown, page, include_roots):
            yield TracedSnippetItem.from_parent(self, name=snippet.id, snippet=snippet)


class TracedSnippetItem(pytest.Item):
    def __init__(self, *, snippet: Snippet, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.snippet = snippet

    def runtest(self) -> None:
        trace = trace_snippet(self.snippet)
        if self.snippet.expectation is None:
            return
        mismatch = check(trace, self.snippet.expectation)
        if mismatch is not None:
            raise SnippetCheckError(
                f"{self.snippet.where}: the real output differs from the expected output\n"
                f"{mismatch.diff}"
            )

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str | Any:
        if isinstance(excinfo.value, SnippetCheckError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        # pytest shows `path::domain` and reads dots in the domain as nesting: give the bare id.
        return self.path, self.snippet.line - 1, self.snippet.id


class SnippetFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        yield SnippetFileItem.from_parent(self, name="traced-output-equals-plain-run")


class SnippetFileItem(pytest.Item):
    def runtest(self) -> None:
        traced = trace_javascript(self.path)
        plain = subprocess.run(
            [str(node_binary()), str(self.path)],
            cwd=self.path.parent,
            capture_output=True,
            timeout=30,
            check=False,
        )
        for stream, output in (("stdout", plain.stdout), ("stderr", plain.stderr)):
            expected = output.decode("utf-8", errors="replace").splitlines()
            if _lines(traced, stream) != expected:
                raise SnippetCheckError(
                    f"{self.path.name}: traced {stream} differs from a plain run:\n"
                    f"plain:  {expected!r}\ntraced: {_lines(traced, stream)!r}"
                )

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str | Any:
        if isinstance(excinfo.value, SnippetCheckError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, self.name


def _lines(trace: Trace, stream: str) -> list[str]:
    return [line.text for line in trace.lines if line.stream == stream]
