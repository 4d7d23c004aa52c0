"""A warm build reuses a traced fence's highlighted code with its block: the page must be the one a
build that highlights every fence makes, whatever the highlighter's settings."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from mkdocs.commands.build import build
from mkdocs.config import load_config

import looplens.render.formatter
import looplens.render.highlighting
from looplens.cache import TraceCache
from looplens.render.cache_key import RenderKey
from looplens.render.highlighting import CodeToHighlight
from looplens.snippet import Snippet

CONFIG = """\
site_name: highlighting
theme:
  name: material
markdown_extensions:
  - attr_list
  - pymdownx.highlight:
{highlight}
  - pymdownx.superfences
plugins:
  - looplens:
      cache: {cache}
"""

#: Line anchors are named by the page's count of highlighted blocks: a plain fence between two
#: traced ones, and a traced fence with options of its own, show whether the count stays right.
#: A title in HTML mode is put aside in the page's stash and named by its place there.
PAGE = """\
# Highlighting

```js {#first .trace}
console.log("one");
setTimeout(() => console.log("two"), 0);
```

```js
console.log("plain, between the traced ones");
```

```js {#second .trace hl_lines="2" title="second.js"}
Promise.resolve().then(() => console.log("later"));
console.log("now");
```

```python {#third .trace}
print("three")
```

```js {#fourth .trace title="<em>fourth</em>.js" title_mode="html"}
console.log("four");
```
"""

ANCHORED = "      anchor_linenums: true\n      line_spans: __span\n      linenums: true"
PLAIN = "      linenums: false"


def count_highlighting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The traced fences highlighted from now on, by the first line of their code."""
    highlighted: list[str] = []
    real = looplens.render.highlighting.highlight

    def counted(md: Any, code: CodeToHighlight) -> str:
        highlighted.append(code.source.splitlines()[0])
        return real(md, code)

    monkeypatch.setattr(looplens.render.formatter, "highlight", counted)
    return highlighted


def build_page(root: Path, *, highlight: str, cache: bool = True) -> str:
    (root / "docs").mkdir(parents=True, exist_ok=True)
    (root / "docs" / "index.md").write_text(PAGE)
    config_file = root / "mkdocs.yml"
    config_file.write_text(CONFIG.format(highlight=highlight, cache=str(cache).lower()))
    build(load_config(str(config_file)))
    return (root / "site" / "index.html").read_text(encoding="utf-8")


def test_a_warm_build_gives_the_page_a_build_without_the_cache_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uncached = build_page(tmp_path / "uncached", highlight=ANCHORED, cache=False)
    cold = build_page(tmp_path / "cached", highlight=ANCHORED)
    highlighted = count_highlighting(monkeypatch)
    warm = build_page(tmp_path / "cached", highlight=ANCHORED)
    assert "__codelineno-2-1" in uncached, "the traced fence after a plain one counts it"
    assert 'class="hll"' in uncached, "the fence's own option reaches the highlighter"
    assert "<em>fourth</em>.js" in uncached
    assert cold == uncached
    assert warm == uncached
    assert highlighted == ['console.log("four");'], "only the stashed title is highlighted again"
    assert mark_drawn_blocks(tmp_path / "cached") == 4
    assert build_page(tmp_path / "cached", highlight=ANCHORED).count("REUSED") == 4


def test_a_changed_highlighter_setting_redraws_the_block(tmp_path: Path) -> None:
    site = tmp_path / "site"
    without_numbers = build_page(site, highlight=PLAIN)
    with_numbers = build_page(site, highlight=ANCHORED)
    assert "linenos" not in without_numbers
    assert with_numbers == build_page(tmp_path / "uncached", highlight=ANCHORED, cache=False)


def test_without_readable_settings_the_highlighted_code_names_the_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another SuperFences may keep its settings elsewhere: then every fence is highlighted,
    and the block is still looked up, by the highlighted code itself."""
    monkeypatch.setattr(
        looplens.render.highlighting, "_SUPERFENCES_SETTINGS", ("a_setting_no_superfences_has",)
    )
    uncached = build_page(tmp_path / "uncached", highlight=ANCHORED, cache=False)
    cold = build_page(tmp_path / "cached", highlight=ANCHORED)
    highlighted = count_highlighting(monkeypatch)
    warm = build_page(tmp_path / "cached", highlight=ANCHORED)
    assert cold == warm == uncached
    assert len(highlighted) == 4
    assert mark_drawn_blocks(tmp_path / "cached") == 4
    assert build_page(tmp_path / "cached", highlight=ANCHORED).count("REUSED") == 4


def mark_drawn_blocks(root: Path) -> int:
    """Change every kept block, so that a page that shows the change shows a looked-up block."""
    cache = TraceCache(root / ".cache" / "plugin" / "looplens")
    entries = sorted(cache.folder.glob("rendered/*/*.html"))
    for entry in entries:
        block = cache.get_rendered(entry.stem)
        assert block is not None
        cache.put_rendered(entry.stem, block.replace("sequenceDiagram", "REUSED", 1))
    return len(entries)


def test_a_drawn_block_is_named_by_every_input_of_its_key() -> None:
    snippet = Snippet("a", "javascript", "a.js", "console.log(1)\n", "docs/a.md", 3)
    key = RenderKey("trace-digest", snippet, "<code>", "../glossary/", None)
    same = RenderKey("trace-digest", snippet, "<code>", "../glossary/", None)
    assert same.digest() == key.digest()
    changed = [
        replace(key, trace_content="other"),
        replace(key, snippet=replace(snippet, line=4)),
        replace(key, code="<code> "),
        replace(key, glossary_url=None),
        replace(key, share_url="../explain/a/"),
    ]
    assert len({key.digest(), *(other.digest() for other in changed)}) == 1 + len(changed)
