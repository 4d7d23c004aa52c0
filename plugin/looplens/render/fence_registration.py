"""Hand looplens's fence formatter to SuperFences: checked once, when the site's config is read."""

from __future__ import annotations

from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError


def register_fences(config: MkDocsConfig, ours: list[dict[str, Any]]) -> None:
    """Add `ours` to SuperFences' custom fences, after the site's own; PluginError with the fix
    when SuperFences is missing or the site already gives one of our fence names its own
    formatter (two formatters cannot both draw a ```js fence)."""
    if "pymdownx.superfences" not in config.markdown_extensions:
        raise PluginError(
            "looplens: requires pymdownx.superfences: add it to markdown_extensions in mkdocs.yml"
        )
    settings = config.mdx_configs.setdefault("pymdownx.superfences", {})
    names = {fence["name"] for fence in ours}
    theirs = settings.get("custom_fences", [])
    clashing = [fence["name"] for fence in theirs if fence.get("name") in names]
    if clashing:
        raise PluginError(
            f"looplens: renders ```{clashing[0]} fences itself (plain ones as usual): "
            f"remove the custom fence named '{clashing[0]}' from pymdownx.superfences "
            "in mkdocs.yml"
        )
    settings["custom_fences"] = [*theirs, *ours]
