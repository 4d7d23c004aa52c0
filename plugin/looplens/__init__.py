"""looplens: trace event-loop snippets at build time and show what really ran, and when."""

from pathlib import Path

__version__ = "0.1.0"

#: The package's folder: the child-side tracers (tracers/) and the page assets (assets/) are
#: files in it that processes and pages use by path.
PACKAGE_FOLDER = Path(__file__).parent
