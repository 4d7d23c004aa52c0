"""What a snippet's run may use, and the words for a run that went past it.

Values only, with no process in sight: the fence parser, the plugin's configuration, the CLI and
the cache's digest read them on every build, warm or cold, while the sandbox that enforces them is
needed only when a snippet really runs. Each limit is described once, in LIMIT_SETTINGS: its
field, the fence option (which is also the CLI flag), the mkdocs.yml setting and how its values
are written.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

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

LimitField = Literal["timeout_s", "output_bytes", "trace_events", "memory_bytes"]


@dataclass(frozen=True, slots=True)
class Limits:
    """What one snippet's run may use. Defaults are generous for a teaching snippet."""

    timeout_s: float = DEFAULT_TIMEOUT_S
    output_bytes: int = DEFAULT_OUTPUT_BYTES
    #: Trace records (Node: async resources, Python: contexts); past it the trace is truncated.
    trace_events: int = DEFAULT_TRACE_EVENTS
    memory_bytes: int = DEFAULT_MEMORY_BYTES


@dataclass(frozen=True, slots=True)
class LimitOverrides:
    """The limits one fence sets for itself (timeout=30 output=2MB); None: the site's."""

    timeout_s: float | None = None
    output_bytes: int | None = None
    trace_events: int | None = None
    memory_bytes: int | None = None

    def over(self, site: Limits) -> Limits:
        """The limits a run of this fence has: its own where it sets them, else the site's."""
        changes = {
            field.name: value
            for field in dataclasses.fields(self)
            if (value := getattr(self, field.name)) is not None
        }
        return dataclasses.replace(site, **changes)


#: A fence that sets no limit of its own.
NO_OVERRIDES = LimitOverrides()

_SECONDS = re.compile(r"\d+(\.\d+)?")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int | None:
    """'512MB', '1GB', '64KB', '1000' (bytes) → bytes; None if it is not a size."""
    match = _SIZE.match(text)
    if match is None:
        return None
    factor = {"B": 1, "KB": 1 << 10, "MB": MB, "GB": 1 << 30}[(match[2] or "B").upper()]
    return int(float(match[1]) * factor)


def format_size(size: int) -> str:
    for unit, factor in (("GB", 1 << 30), ("MB", MB), ("KB", 1 << 10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size}B" if size < 1 << 10 else f"{size / MB:.1f}MB"


@dataclass(frozen=True, slots=True)
class LimitSetting:
    """One limit, as every place that names it names it."""

    field: LimitField
    #: The fence option (timeout=30); the CLI flag is the same word (--timeout 30).
    option: str
    #: The looplens plugin's setting in mkdocs.yml.
    config: str
    kind: Literal["seconds", "count", "size"]
    #: How a breach message names it: "the time limit".
    words: str

    def parse(self, text: str) -> float | None:
        """A value as a fence or the CLI writes it; None unless it is one, above 0."""
        value: float | None
        if self.kind == "seconds":
            value = float(text) if _SECONDS.fullmatch(text) else None
        elif self.kind == "count":
            value = int(text) if text.isdigit() else None
        else:
            value = parse_size(text)
        return value or None

    def expected(self) -> str:
        """What a value must be, for messages: "must be {expected} above 0"."""
        return {"seconds": "seconds", "count": "a count"}.get(self.kind, "a size like 2MB")

    def written(self, value: float) -> str:
        """A value as a fence or the CLI writes it: 10, 20000, 512MB."""
        if self.kind == "seconds":
            return f"{value:g}"
        if self.kind == "count":
            return str(int(value))
        return format_size(int(value))

    def shown(self, value: float) -> str:
        """A value in a message: 10 s, 20000 events, 512MB."""
        if self.kind == "seconds":
            return f"{value:g} s"
        if self.kind == "count":
            return f"{int(value)} events"
        return format_size(int(value))

    def raised(self, value: float) -> str:
        """A higher value to suggest, as a fence or the CLI writes it."""
        return self.written(value * 3 if self.kind == "seconds" else value * 2)


LIMIT_SETTINGS = (
    LimitSetting("timeout_s", "timeout", "timeout", "seconds", "the time limit"),
    LimitSetting("output_bytes", "output", "max_output", "size", "the output limit"),
    LimitSetting("trace_events", "events", "max_events", "count", "the trace limit"),
    LimitSetting("memory_bytes", "memory", "max_memory", "size", "the memory limit"),
)
LIMIT_BY_FIELD: dict[LimitField, LimitSetting] = {s.field: s for s in LIMIT_SETTINGS}


def _typed(values: Mapping[LimitField, float]) -> dict[str, Any]:
    """Each value made its field's type: seconds stay fractional, counts and sizes are whole
    (which of the two is the setting's kind, so the result is typed by field only at run time)."""
    return {
        field: float(value) if LIMIT_BY_FIELD[field].kind == "seconds" else int(value)
        for field, value in values.items()
    }


def limits_from(values: Mapping[LimitField, float]) -> Limits:
    """Limits from one value per field (every field given)."""
    missing = set(LIMIT_BY_FIELD) - set(values)
    if missing:
        raise KeyError(sorted(missing)[0])
    return dataclasses.replace(Limits(), **_typed(values))


def overrides_from(values: Mapping[LimitField, float]) -> LimitOverrides:
    """The limits a fence sets, from the values it gives (any fields, even none)."""
    return dataclasses.replace(NO_OVERRIDES, **_typed(values))


class LimitError(TracerError):
    """A run went past one of its limits and was ended.

    `happened` says what, with the limit's value; the message adds how a page raises it. The CLI,
    whose way to raise it is a flag, builds its own message from the same parts.
    """

    def __init__(self, happened: str, limit: LimitField, higher: str) -> None:
        self.happened = happened
        self.limit = limit
        #: A higher value of the limit, as a fence or the CLI writes it.
        self.higher = higher
        setting = LIMIT_BY_FIELD[limit]
        super().__init__(
            self.with_fix(
                f"give the fence {setting.option}={higher} or set '{setting.config}' of the "
                "looplens plugin in mkdocs.yml"
            )
        )

    def with_fix(self, how: str) -> str:
        """What happened, then `how` to raise the limit: the words of every breach message."""
        return f"{self.happened}; the run was ended. To raise it, {how}"

    @classmethod
    def of(cls, limit: LimitField, limits: Limits, what: str) -> LimitError:
        """`what` says what happened, with {limit} where the limit's value and name go."""
        setting = LIMIT_BY_FIELD[limit]
        value = getattr(limits, limit)
        shown = f"{setting.shown(value)} ({setting.words})"
        return cls(what.replace("{limit}", shown), limit, setting.raised(value))

    def located(self, where: str) -> LimitError:
        """The same breach, its message starting with where it happened (`page:line: …`)."""
        return LimitError(f"{where}: {self.happened}", self.limit, self.higher)
