"""Highlighting code through SuperFences, and naming a traced fence's result without doing it.

A traced fence's drawn block holds its highlighted code, and highlighting (Pygments) is the
largest cost of rendering a fence: as large as looking up the rest of the block. A warm build
looks the whole block up by what decides the highlighted code instead (the code, its options,
the highlighter's settings and version, and the page's count of highlighted blocks, which line
anchors are named by), and then only advances that count, as highlighting would have.

Those settings live on SuperFences' preprocessor under names that are not a public API: when
one is missing (another SuperFences), `highlight_identity` says None and the code is highlighted.
"""

from __future__ import annotations

import functools
import importlib.metadata
import weakref
from dataclasses import dataclass
from typing import Any

#: The preprocessor's attributes that SuperFences passes to its highlighter (see
#: pymdownx.superfences.SuperFencesBlockPreprocessor.highlight).
_SUPERFENCES_SETTINGS = (
    "css_class",
    "guess_lang",
    "pygments_style",
    "use_pygments",
    "noclasses",
    "linenums",
    "linenums_style",
    "linenums_special",
    "linenums_class",
    "extend_pygments_lang",
    "language_prefix",
    "code_attr_on_pre",
    "auto_title",
    "auto_title_map",
    "line_spans",
    "line_anchors",
    "anchor_linenums",
    "pygments_lang_class",
    "stripnl",
    "default_lang",
    "title_mode",
)


@dataclass(frozen=True, slots=True)
class CodeToHighlight:
    """One traced fence's code as SuperFences is asked to highlight it."""

    source: str
    language: str
    title: str
    #: The fence's own options (hl_lines, linenums, …), as SuperFences parsed them.
    options: tuple[tuple[str, str], ...]
    classes: tuple[str, ...]


def highlight(md: Any, code: CodeToHighlight) -> str:
    return str(
        _superfences(md).highlight(
            src=code.source,
            language=code.language,
            options={"title": code.title, **dict(code.options)},
            md=md,
            classes=list(code.classes),
            id_value="",
            attrs={},
        )
    )


def highlight_as_written(
    md: Any, src: str, language: str, options: dict[str, Any], **kwargs: Any
) -> str:
    """A fence looplens does not trace, highlighted exactly as SuperFences would."""
    return str(
        _superfences(md).highlight(src=src, language=language, options=options, md=md, **kwargs)
    )


def highlight_identity(md: Any, code: CodeToHighlight) -> str | None:
    """A text that differs whenever `highlight(md, code)` could: None when it cannot be told."""
    settings = _page_settings(md)
    if settings is None:
        return None
    # The number the block's line anchors would carry (highlighting counts before it draws).
    count = _superfences(md).highlight_ext.pygments_code_block + 1
    return repr((settings, count, code))


def count_as_highlighted(md: Any) -> None:
    """Leave the page's count of highlighted blocks where highlighting the code would have, so
    that later blocks' line anchors are named as in a build that highlighted this one."""
    _superfences(md).highlight_ext.pygments_code_block += 1


def stash_size(md: Any) -> int | None:
    """How many pieces of raw HTML the page has put aside (Markdown numbers placeholders by it);
    None when this Markdown does not say."""
    size = getattr(getattr(md, "htmlStash", None), "html_counter", None)
    return size if isinstance(size, int) else None


def _superfences(md: Any) -> Any:
    # SuperFences' preprocessor: it highlights, and holds the settings and the page's count.
    return md.preprocessors["fenced_code_block"]


def _page_settings(md: Any) -> str | None:
    # One Markdown instance converts one page: its settings are read once for all its fences.
    if md not in _SETTINGS_BY_CONVERTER:
        _SETTINGS_BY_CONVERTER[md] = _read_settings(md)
    return _SETTINGS_BY_CONVERTER[md]


_SETTINGS_BY_CONVERTER: weakref.WeakKeyDictionary[Any, str | None] = weakref.WeakKeyDictionary()


def _read_settings(md: Any) -> str | None:
    try:
        preprocessor = _superfences(md)
        extension = preprocessor.highlight_ext
        values = tuple(getattr(preprocessor, name) for name in _SUPERFENCES_SETTINGS)
        highlighter = preprocessor.highlighter
        configs = sorted(extension.get_pymdownx_highlight_settings().items())
        int(extension.pygments_code_block)
        versions = _versions()
    except (
        AttributeError,
        KeyError,
        TypeError,
        ValueError,
        importlib.metadata.PackageNotFoundError,
    ):
        return None
    kind = f"{highlighter.__module__}.{highlighter.__qualname__}"
    return repr((versions, kind, values, configs))


@functools.cache
def _versions() -> tuple[str, str]:
    return (
        importlib.metadata.version("pymdown-extensions"),
        importlib.metadata.version("pygments"),
    )
