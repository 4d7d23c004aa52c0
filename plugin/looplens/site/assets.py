"""The page assets a looplens site links: the stylesheet and scripts in the package's assets/
folder, and the queues' stylesheet, made at build time from the queue table (looplens.queues).

The queue colours travel as a stylesheet file, not as a <style> element or style attributes: a
site served under a strict Content Security Policy (no 'unsafe-inline') drops inline styles, and
its chips would lose their colours. The file is written from the table alone, so two builds give
the same bytes.
"""

from __future__ import annotations

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File

from looplens import PACKAGE_FOLDER
from looplens.queues import QUEUE_TABLE
from looplens.site.mermaid import MERMAID_ASSET, mermaid_file

#: Where the assets are served from, relative to the site's root.
ASSETS_URI = "assets/looplens"
#: The files of the package's assets/ folder that pages link, by name.
STATIC_STYLESHEET = "looplens.css"
#: In the order pages link them: the scripts run in that order, and the player and the question
#: use what looplens-dom.js defines.
SCRIPTS = ("looplens-dom.js", "looplens-player.js", "looplens-predict.js", "looplens-diagram.js")
#: The stylesheet made from the queue table.
QUEUE_STYLESHEET = "looplens-queues.css"

#: A chip shows its queue's colour at a fifth of its strength (hex alpha 33), so that its text
#: stays readable on both the light and the dark scheme.
CHIP_ALPHA = "33"

_FOLDER = PACKAGE_FOLDER / "assets"
_QUEUE_STYLESHEET_HEADER = "/* looplens: the colour of each queue's chip (looplens/queues.py). */\n"


def asset_uri(name: str) -> str:
    return f"{ASSETS_URI}/{name}"


#: In the order pages link them. The queues' rules come last: the main stylesheet's
#: `.looplens-queue` rule gives every chip a neutral background with the same specificity, and
#: of two such rules the later one wins.
STYLESHEET_URIS = (asset_uri(STATIC_STYLESHEET), asset_uri(QUEUE_STYLESHEET))
SCRIPT_URIS = tuple(asset_uri(name) for name in SCRIPTS)


def link_assets(config: MkDocsConfig) -> None:
    """Make every page link the stylesheets and scripts (once, even if the site lists them)."""
    for uri in STYLESHEET_URIS:
        if uri not in config.extra_css:
            config.extra_css.append(uri)
    for uri in SCRIPT_URIS:
        if uri not in config.extra_javascript:
            config.extra_javascript.append(uri)


def asset_files(config: MkDocsConfig) -> list[File]:
    """The files behind those links, for the site's Files: copies of the static ones, and the
    queues' stylesheet with its content."""
    static = [
        File.generated(config, asset_uri(name), abs_src_path=str(_FOLDER / name))
        for name in (STATIC_STYLESHEET, *SCRIPTS)
    ]
    made = File.generated(config, asset_uri(QUEUE_STYLESHEET), content=queue_stylesheet())
    files = [*static, made]
    # Mermaid is served beside the diagram script, which loads it when a diagram is opened;
    # without it (not fetched yet: `looplens install`) a diagram tab shows its source.
    library = mermaid_file()
    if library.is_file():
        files.append(File.generated(config, asset_uri(MERMAID_ASSET), abs_src_path=str(library)))
    return files


def queue_stylesheet() -> str:
    """One rule per queue colouring its chip, `.looplens-queue--<name>`, in the table's order."""
    rules = "".join(
        f".looplens-queue--{queue.name} {{ background: {queue.colour}{CHIP_ALPHA}; }}\n"
        for queue in QUEUE_TABLE
    )
    return _QUEUE_STYLESHEET_HEADER + rules
