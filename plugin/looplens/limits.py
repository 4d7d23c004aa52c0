"""What a snippet's run may use, and the words for a run that went past it.

Values only, with no process in sight: the fence parser, the plugin's configuration and the
cache's digest read them on every build, warm or cold, while the sandbox that enforces them
(sandbox.py) is needed only when a snippet really runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from looplens.errors import TracerError

MB = 1 << 20
#: What a snippet may ask for in its fence, e.g. allow="worker,net": Node worker threads, loopback
#: networking, reading any file, writing in its own (temporary) folder, child processes (those
#: four in both languages), native addons (Node).
PERMISSIONS = ("worker", "net", "read", "write", "child", "addons")

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_OUTPUT_BYTES = 1 * MB
DEFAULT_TRACE_EVENTS = 20_000
DEFAULT_MEMORY_BYTES = 512 * MB


@dataclass(frozen=True, slots=True)
class Limits:
    """What one snippet's run may use. Defaults are generous for a teaching snippet."""

    timeout_s: float = DEFAULT_TIMEOUT_S
    output_bytes: int = DEFAULT_OUTPUT_BYTES
    #: Trace records (Node: async resources, Python: contexts); past it the trace is truncated.
    trace_events: int = DEFAULT_TRACE_EVENTS
    memory_bytes: int = DEFAULT_MEMORY_BYTES


#: limit → (fence option, mkdocs.yml option of the looplens plugin): named in every breach message.
LIMIT_OPTIONS = {
    "timeout_s": ("timeout", "timeout"),
    "output_bytes": ("output", "max_output"),
    "trace_events": ("events", "max_events"),
    "memory_bytes": ("memory", "max_memory"),
}
_LIMIT_WORDS = {
    "timeout_s": "the time limit",
    "output_bytes": "the output limit",
    "trace_events": "the trace limit",
    "memory_bytes": "the memory limit",
}


def format_size(size: int) -> str:
    for unit, factor in (("GB", 1 << 30), ("MB", MB), ("KB", 1 << 10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size}B" if size < 1 << 10 else f"{size / MB:.1f}MB"


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int | None:
    """'512MB', '1GB', '64KB', '1000' (bytes) → bytes; None if it is not a size."""
    match = _SIZE.match(text)
    if match is None:
        return None
    factor = {"B": 1, "KB": 1 << 10, "MB": MB, "GB": 1 << 30}[(match[2] or "B").upper()]
    return int(float(match[1]) * factor)


_SECONDS = re.compile(r"\d+(\.\d+)?")


def parse_limit(limit: str, text: str) -> float | None:
    """A Limits field's value as a fence option or a CLI flag writes it (seconds, a count, or a
    size like 2MB); None unless it is one, above 0."""
    value: float | None
    if limit == "timeout_s":
        value = float(text) if _SECONDS.fullmatch(text) else None
    elif limit == "trace_events":
        value = int(text) if text.isdigit() else None
    else:
        value = parse_size(text)
    return value or None


def limit_kind(limit: str) -> str:
    """What a value of `limit` must be, for messages: "must be {kind} above 0"."""
    return {"timeout_s": "seconds", "trace_events": "a count"}.get(limit, "a size like 2MB")


def _shown(limit: str, value: float) -> str:
    if limit == "timeout_s":
        return f"{value:g} s"
    if limit == "trace_events":
        return f"{int(value)} events"
    return format_size(int(value))


class LimitError(TracerError):
    """A run went past one of its limits (`limit`, a Limits field) and was ended."""

    def __init__(self, message: str, limit: str) -> None:
        super().__init__(message)
        self.limit = limit

    @classmethod
    def of(cls, limit: str, limits: Limits, what: str) -> LimitError:
        """`what` says what happened, with {limit} where the limit's value and name go."""
        value = getattr(limits, limit)
        fence, config = LIMIT_OPTIONS[limit]
        shown = f"{_shown(limit, value)} ({_LIMIT_WORDS[limit]})"
        return cls(
            f"{what.replace('{limit}', shown)}{RAISE_IT}give the fence "
            f"{fence}={raised(limit, limits)} or set '{config}' of the looplens plugin "
            "in mkdocs.yml",
            limit,
        )


#: Where a breach message turns from what happened to how to raise the limit.
RAISE_IT = "; the run was ended. To raise it, "


def raised(limit: str, limits: Limits) -> str:
    """A higher value of `limit` (a Limits field), as a fence or the CLI writes it."""
    value = getattr(limits, limit)
    if limit == "timeout_s":
        return f"{value * 3:g}"
    if limit == "trace_events":
        return str(int(value * 2))
    return format_size(int(value * 2))
