"""The environment variables a snippet's process sees: few, so that it prints no secret of the
build and nothing that the build's own settings would change."""

from __future__ import annotations

import os
from collections.abc import Mapping

#: The build's environment variables a snippet sees; the others (tokens, credentials, the
#: build's own NODE_OPTIONS or PYTHON* settings) stay out, so a snippet cannot print them.
_KEPT_VARIABLES = frozenset({"PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM"})


def scrubbed_environment(environment: Mapping[str, str]) -> dict[str, str]:
    """The variables of `environment` that a snippet may see: locale, path, home, time zone."""
    return {
        name: value
        for name, value in environment.items()
        if name in _KEPT_VARIABLES or name.startswith("LC_")
    }


def python_environment() -> dict[str, str]:
    """The environment a snippet runs in, traced or not.

    Unbuffered, so that stdout and stderr are written in the order the snippet writes them;
    UTF-8 whatever the locale; a fixed hash seed, so that set order is the same in every build.
    Only locale, path, home and time zone come from the build's environment: its own PYTHON*
    settings (asyncio debug mode, warnings filters, dev mode) and the variables that force colors
    in tracebacks (3.13+) would change what a snippet prints, and its secrets must not reach a
    page.
    """
    environment = scrubbed_environment(os.environ)
    environment.update(PYTHONUNBUFFERED="1", PYTHONHASHSEED="0", PYTHONUTF8="1")
    return environment
