"""The options of a traced fence that tune its run: limits, what it may open, runs, clock, exit.

Each reader takes the parsed fence and the `page:line` prefix of its messages, and raises
SnippetError naming the option and the values it accepts.
"""

from __future__ import annotations

from looplens.errors import LooplensError, SnippetError
from looplens.fences.scan import Fence
from looplens.limits import (
    LIMIT_SETTINGS,
    PERMISSIONS,
    LimitField,
    LimitOverrides,
    overrides_from,
)
from looplens.runtimes.runtime import RUNTIME_NAMES, RuntimeSelector, parse_selectors
from looplens.snippet import FENCE_LANGUAGES, Clock

#: The most runs a fence may ask for: each run has the whole time limit, so runs=100000 would
#: hold a build for days.
MAX_RUNS = 200


def read_runs(fence: Fence, where: str) -> int | None:
    """How many times the fence asks to be run: runs=20."""
    text = fence.option("runs")
    if text is None:
        return None
    if not text.isdigit() or not 1 <= int(text) <= MAX_RUNS:
        raise SnippetError(
            f"{where}: snippet '{fence.id}': runs must be a count from 1 to {MAX_RUNS}, "
            f"not '{text}'"
        )
    return int(text)


#: The widest minimum margin a fence may ask for: an order with a minute to spare is fixed.
MAX_MIN_MARGIN_MS = 60_000.0


def read_min_margin(fence: Fence, where: str) -> float | None:
    """The smallest margin (ms) by which a clock may decide an order shown as fixed:
    min_margin_ms=25."""
    text = fence.option("min_margin_ms")
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= MAX_MIN_MARGIN_MS:
        raise SnippetError(
            f"{where}: snippet '{fence.id}': min_margin_ms must be a number of milliseconds "
            f"above 0 and at most {MAX_MIN_MARGIN_MS:g}, not '{text}'"
        )
    return value


def read_limits(fence: Fence, where: str) -> LimitOverrides:
    """The limits a fence sets: timeout=30 (seconds), output=2MB, events=50000, memory=1GB."""
    values: dict[LimitField, float] = {}
    for setting in LIMIT_SETTINGS:
        text = fence.option(setting.option)
        if text is None:
            continue
        value = setting.parse(text)
        if value is None:
            raise SnippetError(
                f"{where}: snippet '{fence.id}': {setting.option} must be {setting.expected()} "
                f"above 0, not '{text}'"
            )
        values[setting.field] = value
    return overrides_from(values)


def read_allow(fence: Fence, where: str) -> tuple[str, ...]:
    """What a fence opens in the sandbox, as it wrote it: allow="worker,net"."""
    text = fence.option("allow")
    if text is None:
        return ()
    asked = tuple(sorted({word.strip() for word in text.split(",") if word.strip()}))
    unknown = [word for word in asked if word not in PERMISSIONS]
    if unknown:
        raise SnippetError(
            f"{where}: snippet '{fence.id}': allow cannot open '{unknown[0]}' "
            f"(it can open: {', '.join(PERMISSIONS)})"
        )
    return asked


def read_clock(fence: Fence, where: str) -> Clock:
    """How asyncio's timers pass: clock="virtual" (they jump, the default) or clock="real"."""
    clock = fence.option("clock") or "virtual"
    if clock == "virtual":
        return "virtual"
    if clock == "real":
        return "real"
    raise SnippetError(
        f"{where}: snippet '{fence.id}': clock must be \"virtual\" or \"real\", not '{clock}'"
    )


def read_exit_code(fence: Fence, where: str) -> int:
    """The exit code the author expects: exit=1 (0 unless the fence says)."""
    exit_code = fence.option("exit") or "0"
    if not exit_code.isdigit():
        raise SnippetError(
            f"{where}: snippet '{fence.id}': exit must be a number, not '{exit_code}'"
        )
    return int(exit_code)


def read_runtimes(fence: Fence, where: str) -> tuple[RuntimeSelector, ...]:
    """The runtimes a fence runs on, when not all of the site's: runtimes="node@22+"."""
    text = fence.option("runtimes")
    if text is None:
        return ()
    try:
        selectors = parse_selectors(text)
    except LooplensError as error:
        raise SnippetError(f"{where}: snippet '{fence.id}': runtimes: {error}") from error
    kind = RUNTIME_NAMES[FENCE_LANGUAGES[fence.lang][0]]
    other = [selector for selector in selectors if selector.kind != kind]
    if other:
        raise SnippetError(
            f"{where}: snippet '{fence.id}': runtimes names {other[0]}, which cannot run "
            f"'{fence.lang}' code"
        )
    return selectors
