"""Where a page's traced blocks link to, relative to that page: the glossary's queue entries and
each snippet's share page (made by share.py's generator, when the site runs it).

The links live in raw HTML that MkDocs does not rewrite, so they are worked out here, from the
site's files, as MkDocs would for a Markdown link.
"""

from __future__ import annotations

from collections.abc import Iterable

from mkdocs.structure.files import File, Files

from looplens.render.links import PageLinks

#: The folder of the generated share pages: a snippet `x` has its page at `explain/x.md`.
SHARE_FOLDER = "explain"
#: The front-matter key of a share page: the id of the snippet it explains.
SHARE_META_KEY = "looplens_share"


def share_page_path(snippet_id: str) -> str:
    return f"{SHARE_FOLDER}/{snippet_id}.md"


def page_links(page: File, files: Files, glossary: str, snippet_ids: Iterable[str]) -> PageLinks:
    glossary_file = files.get_file_from_path(glossary) if glossary else None
    share = []
    for snippet_id in snippet_ids:
        target = files.get_file_from_path(share_page_path(snippet_id))
        if target is not None and target.src_uri != page.src_uri:
            share.append((snippet_id, target.url_relative_to(page)))
    return PageLinks(
        glossary_file.url_relative_to(page) if glossary_file is not None else None, tuple(share)
    )
