"""Two clean builds of the documentation give the same bytes (issue: reproducible pages).

Both builds run every snippet afresh (the trace cache off), as two CI machines would. Blocks that
say they hold measured figures (`.measured`, and the counted orderings of a nondeterministic
snippet) are the only parts allowed to differ; they are left out of the comparison, and only
they.
"""

from __future__ import annotations

from pathlib import Path

from bs4 import BeautifulSoup
from mkdocs.commands.build import build
from mkdocs.config import load_config

PROJECT = Path(__file__).parent.parent

#: Files whose bytes carry the build's date by design (MkDocs' sitemap): not page content.
DATED = {"sitemap.xml", "sitemap.xml.gz"}


def build_without_cache(site_dir: Path) -> dict[str, bytes]:
    config = load_config(str(PROJECT / "mkdocs.yml"), site_dir=str(site_dir))
    config.plugins["looplens"].config["cache"] = False
    build(config)
    return {
        path.relative_to(site_dir).as_posix(): path.read_bytes()
        for path in sorted(site_dir.rglob("*"))
        if path.is_file() and path.name not in DATED
    }


def without_measured_parts(html: bytes) -> bytes:
    if b"data-looplens-measured" not in html:
        return html
    page = BeautifulSoup(html, "html.parser")
    for element in page.select("[data-looplens-measured]"):
        element.clear()
    return str(page).encode()


def test_two_clean_builds_of_the_site_are_byte_identical(tmp_path: Path) -> None:
    first = build_without_cache(tmp_path / "first")
    second = build_without_cache(tmp_path / "second")
    assert sorted(first) == sorted(second)
    differing = [
        name
        for name in first
        if without_measured_parts(first[name]) != without_measured_parts(second[name])
    ]
    assert differing == [], f"pages that changed between two builds: {differing}"
