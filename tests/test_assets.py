"""The plugin's stylesheets are read by browsers that skip what they cannot parse, silently: a
rule left open swallows the rules after it. Check their shape here, where a mistake fails loudly,
and that every page links the assets the site holds, the queues' colours after the main rules."""

from __future__ import annotations

import re
from pathlib import Path

from bs4 import BeautifulSoup
from mkdocs.commands.build import build
from mkdocs.config import load_config
from mkdocs.config.defaults import MkDocsConfig

from looplens.queues import QUEUE_TABLE
from looplens.site.assets import (
    ASSETS_URI,
    CHIP_ALPHA,
    SCRIPT_URIS,
    STYLESHEET_URIS,
    link_assets,
    queue_stylesheet,
)

STYLESHEET = Path(__file__).parent.parent / "plugin" / "looplens" / "assets" / "looplens.css"


def rules(css: str) -> list[tuple[str, str]]:
    """(selector, body) of every rule, those inside an @media group too; asserts that no rule
    opens inside another (a group holds rules, a rule only declarations)."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    found: list[tuple[str, str]] = []
    depth, start, selector, in_group = 0, 0, "", False
    for index, char in enumerate(css):
        if char == "{":
            opened = css[start:index].strip()
            if depth == 0 and opened.startswith("@media"):
                in_group, depth, start = True, 1, index + 1
                continue
            assert depth == (1 if in_group else 0), f"a rule opens inside another: {opened!r}"
            depth, selector, start = depth + 1, opened, index + 1
        elif char == "}":
            if in_group and depth == 1:
                assert css[start:index].strip() == "", "text after the last rule of a group"
                in_group, depth, start = False, 0, index + 1
                continue
            assert depth == (2 if in_group else 1), f"a '}}' closes nothing, after {selector!r}"
            found.append((selector, css[start:index].strip()))
            depth, start = depth - 1, index + 1
    assert depth == 0, f"the rule {selector!r} is never closed"
    assert css[start:].strip() == "", "text after the last rule"
    return found


def test_every_rule_of_the_stylesheet_is_closed_and_holds_declarations() -> None:
    parsed = rules(STYLESHEET.read_text(encoding="utf-8"))
    assert len(parsed) > 20
    for selector, body in parsed:
        assert selector, "a rule without a selector"
        declarations = [part.strip() for part in body.split(";") if part.strip()]
        assert all(":" in declaration for declaration in declarations), selector


def test_a_rule_left_open_is_caught() -> None:
    broken = ".a {\n  color: red;\n.b {\n  color: blue;\n}\n"
    try:
        rules(broken)
    except AssertionError as error:
        assert "opens inside another" in str(error)
    else:
        raise AssertionError("an open rule went unnoticed")


def test_the_queue_stylesheet_colours_every_queue_from_the_table() -> None:
    parsed = rules(queue_stylesheet())
    assert parsed == [
        (f".looplens-queue--{queue.name}", f"background: {queue.colour}{CHIP_ALPHA};")
        for queue in QUEUE_TABLE
    ]
    assert ".looplens-queue--" not in STYLESHEET.read_text(encoding="utf-8"), (
        "a queue's colour belongs in the table, not in the static stylesheet"
    )


def site_config(tmp_path: Path) -> MkDocsConfig:
    config = MkDocsConfig(config_file_path=str(tmp_path / "mkdocs.yml"))
    (tmp_path / "docs").mkdir(exist_ok=True)
    config.load_dict({"site_name": "test", "docs_dir": "docs", "extra_css": ["site.css"]})
    errors, _ = config.validate()
    assert errors == []
    return config


def test_pages_link_the_queue_colours_after_the_rules_they_override_and_each_asset_once(
    tmp_path: Path,
) -> None:
    config = site_config(tmp_path)
    link_assets(config)
    link_assets(config)  # linking again adds nothing: each asset is linked once
    main, queues = STYLESHEET_URIS
    assert config.extra_css == ["site.css", main, queues]
    assert [str(script) for script in config.extra_javascript] == list(SCRIPT_URIS)


def test_the_shared_script_is_linked_before_every_script_that_uses_it() -> None:
    names = [uri.rsplit("/", 1)[-1] for uri in SCRIPT_URIS]
    sources = {name: (STYLESHEET.parent / name).read_text(encoding="utf-8") for name in names}
    [shared] = [name for name, source in sources.items() if "window.looplensDom = " in source]
    users = [name for name, source in sources.items() if re.search(r"looplensDom\.\w", source)]
    assert users, "no script uses the shared one"
    assert all(names.index(shared) < names.index(user) for user in users)


SITE_CONFIG = """\
site_name: assets
theme:
  name: material
markdown_extensions:
  - pymdownx.superfences
plugins:
  - looplens:
      cache: false
"""


def build_site(root: Path) -> Path:
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "index.md").write_text("# A page without snippets\n")
    (root / "mkdocs.yml").write_text(SITE_CONFIG)
    build(load_config(str(root / "mkdocs.yml")))
    return root / "site"


def test_the_site_holds_a_file_behind_every_link_with_the_same_bytes_each_build(
    tmp_path: Path,
) -> None:
    first, second = (build_site(tmp_path / name) for name in ("first", "second"))
    uris = [*STYLESHEET_URIS, *SCRIPT_URIS]
    assert all((first / uri).read_bytes() == (second / uri).read_bytes() for uri in uris)
    assert (first / STYLESHEET_URIS[1]).read_text(encoding="utf-8") == queue_stylesheet()
    page = BeautifulSoup((first / "index.html").read_text(encoding="utf-8"), "html.parser")
    linked = [str(link["href"]) for link in page.select("link[rel=stylesheet]")]
    assert [href for href in linked if href.startswith(ASSETS_URI)] == list(STYLESHEET_URIS)
