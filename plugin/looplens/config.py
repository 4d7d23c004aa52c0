"""The looplens plugin's settings in mkdocs.yml: one typed option each, with its docstring."""

from __future__ import annotations

from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.exceptions import PluginError

from looplens.errors import LooplensError
from looplens.fences.options import MAX_MIN_MARGIN_MS, MAX_RUNS
from looplens.limits import (
    DEFAULT_MEMORY_BYTES,
    DEFAULT_OUTPUT_BYTES,
    DEFAULT_TIMEOUT_S,
    DEFAULT_TRACE_EVENTS,
    LIMIT_SETTINGS,
    LimitField,
    Limits,
    format_size,
    limits_from,
)
from looplens.margins import DEFAULT_MIN_MARGIN_MS
from looplens.runtimes.matrix import DEFAULT_RUNTIMES
from looplens.runtimes.runtime import RuntimeName


class LooplensConfig(Config):
    enabled = c.Type(bool, default=True)
    """Trace snippets. When off, traced fences render as plain highlighted code."""
    timeout = c.Type((int, float), default=DEFAULT_TIMEOUT_S)
    """Seconds one snippet may run before its trace fails (a fence may say timeout=30)."""
    max_output = c.Type((int, str), default=format_size(DEFAULT_OUTPUT_BYTES))
    """Bytes one snippet may print, e.g. "2MB" (fence: output=2MB)."""
    max_events = c.Type(int, default=DEFAULT_TRACE_EVENTS)
    """Trace records kept per snippet; past it the trace is truncated (fence: events=50000)."""
    max_memory = c.Type((int, str), default=format_size(DEFAULT_MEMORY_BYTES))
    """Memory one snippet may use, e.g. "1GB" (fence: memory=1GB)."""
    runs = c.Type(int, default=1)
    """Times each snippet runs. Above 1, an output order that changes between runs fails the
    build; at 1 only the races looplens recognises do (a fence may say runs=5; a snippet marked
    .nondeterministic runs 20 times unless its fence says runs=)."""
    min_margin_ms = c.Type((int, float), default=DEFAULT_MIN_MARGIN_MS)
    """The smallest margin (ms) by which a clock (a timer due or not, an I/O or thread completion)
    may decide an order that a page shows as fixed; below it the order is a race (a fence may say
    min_margin_ms=25)."""
    concurrency = c.Type(int, default=0)
    """Snippets traced at once; 0 means two per core."""
    cache = c.Type(bool, default=True)
    """Keep traces on disk, by a digest of everything that can change them."""
    cache_dir = c.Type(str, default=".cache/plugin/looplens")
    """Folder of the trace cache, relative to mkdocs.yml."""
    snippets_dir = c.Type(str, default="snippets")
    """Folder (relative to mkdocs.yml) that `--8<--` includes in traced fences are read from."""
    runtimes = c.ListOfItems(c.Type(str), default=list(DEFAULT_RUNTIMES))
    """The runtimes every snippet is proven on: node@MAJOR and python@MAJOR.MINOR. Each
    language's newest found is its primary, shown first; the build says which it did not find
    and proves on the rest (`looplens runtimes install` installs the Node releases)."""
    require_runtimes = c.Type(bool, default=False)
    """Fail the build when one of `runtimes` is not found, instead of proving on the rest
    (for CI, which must prove on all of them)."""
    glossary = c.Type(str, default="glossary.md")
    """The page (in docs/) whose queue table has `queue-<name>` anchors; "" for none."""


def site_limits(config: LooplensConfig) -> Limits:
    """The limits every snippet of the site runs under, unless its fence sets its own."""
    values: dict[LimitField, float] = {}
    for setting in LIMIT_SETTINGS:
        given = config[setting.config]
        value = setting.parse(str(given)) if isinstance(given, str) else float(given)
        if not value or value <= 0:
            raise PluginError(
                f"looplens: {setting.config} must be {setting.expected()} above 0, not {given!r}"
            )
        values[setting.field] = value
    return limits_from(values)


def check_config(config: LooplensConfig) -> None:
    """PluginError, with the setting and the values it takes, for a setting out of range."""
    if not 0 < config.min_margin_ms <= MAX_MIN_MARGIN_MS:
        raise PluginError(
            "looplens: min_margin_ms must be a number of milliseconds above 0 and at most "
            f"{MAX_MIN_MARGIN_MS:g}, not {config.min_margin_ms}"
        )
    if not 1 <= config.runs <= MAX_RUNS:
        raise PluginError(f"looplens: runs must be from 1 to {MAX_RUNS}, not {config.runs}")
    site_limits(config)
    runtime_names(config)


def runtime_names(config: LooplensConfig) -> tuple[RuntimeName, ...]:
    """The runtimes the site names, each checked; PluginError for one that is no runtime."""
    try:
        names = tuple(RuntimeName.parse(text) for text in config.runtimes)
    except LooplensError as error:
        raise PluginError(f"looplens: runtimes: {error}") from error
    if not names:
        raise PluginError("looplens: runtimes lists no runtime: name at least one (node@24)")
    return names
