"""looplens: trace event-loop snippets at build time and show what really ran, and when."""

__version__ = "0.1.0"
