"""What the plugin asks of a page of the site: its path in messages, whether it is a share page,
and the ids its headings take."""

from __future__ import annotations

import functools
from pathlib import Path

from mkdocs.structure.toc import AnchorLink
from mkdocs.utils.meta import get_data

from looplens.site.links import SHARE_META_KEY


def page_path(docs_dir: str, project: Path, src_uri: str) -> str:
    """The page as a contributor finds it, from the project folder: "docs/a.md"."""
    folder = _docs_folder(docs_dir, project)
    return src_uri if folder == "." else f"{folder}/{src_uri}"


@functools.cache
def _docs_folder(docs_dir: str, project: Path) -> str:
    # Asked for each page, twice: paths are slow to make by the hundred.
    docs = Path(docs_dir)
    return (docs.relative_to(project) if docs.is_relative_to(project) else docs).as_posix()


def shared_id(markdown: str) -> str | None:
    """The id a generated share page explains, from its front matter; None for other pages."""
    if SHARE_META_KEY not in markdown:
        return None  # most pages: not worth parsing their front matter for it
    _, meta = get_data(markdown)
    value = meta.get(SHARE_META_KEY)
    return str(value) if value is not None else None


def heading_ids(items: list[AnchorLink]) -> set[str]:
    """The anchor ids of a page's headings, at every level of its table of contents."""
    return {item.id for item in items} | {
        anchor for item in items for anchor in heading_ids(item.children)
    }
