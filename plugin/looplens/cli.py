"""`looplens trace FILE`: trace one snippet file and print what really ran, and when.

Exit status: 0 when the snippet was traced (even if the snippet itself threw: that is content), 2
with a one-line reason on stderr when it could not be traced (bad options, a missing file, a run
that went past a limit: the reason then says which flag raises it).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from looplens.errors import LooplensError
from looplens.limits import (
    LIMIT_BY_FIELD,
    LIMIT_SETTINGS,
    PERMISSIONS,
    LimitError,
    LimitField,
    Limits,
    limits_from,
)
from looplens.render.mermaid import render_mermaid
from looplens.render.table import render_text
from looplens.snippet import FILE_LANGUAGES
from looplens.trace import Trace
from looplens.tracing.run import trace_file

FORMATS = ("table", "json", "mermaid")
#: What each limit's flag bounds, in the help.
_FLAG_HELP: dict[LimitField, str] = {
    "timeout_s": "seconds the run may take",
    "output_bytes": "what it may print, stdout and stderr together, e.g. 2MB",
    "trace_events": "trace records before the trace is cut",
    "memory_bytes": "memory for the snippet, e.g. 1GB",
}


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    try:
        allow = tuple(name for name in arguments.allow.split(",") if name)
        unknown = [name for name in allow if name not in PERMISSIONS]
        if unknown:
            raise LooplensError(
                f"--allow cannot open '{unknown[0]}' (known: {', '.join(PERMISSIONS)})"
            )
        limits = _limits(arguments)
        trace = _trace_file(Path(arguments.file), limits, not arguments.real_time, allow)
    except LimitError as error:
        # The error's message says how a page raises the limit; here the way is a flag.
        flag = "--" + LIMIT_BY_FIELD[error.limit].option
        print(f"looplens: {error.with_fix(f'pass {flag} {error.higher}')}", file=sys.stderr)
        return 2
    except LooplensError as error:
        print(f"looplens: {error}", file=sys.stderr)
        return 2
    print(_format(trace, arguments.format), end="")
    return 0


def _limits(arguments: argparse.Namespace) -> Limits:
    """The limits the flags set, checked as a fence's are: above 0, sizes like 2MB."""
    values: dict[LimitField, float] = {}
    for setting in LIMIT_SETTINGS:
        text = str(getattr(arguments, setting.option))
        value = setting.parse(text.strip())  # a shell may leave spaces around it
        if value is None:
            raise LooplensError(
                f"--{setting.option} must be {setting.expected()} above 0, not '{text}'"
            )
        values[setting.field] = value
    return limits_from(values)


def _trace_file(path: Path, limits: Limits, virtual_time: bool, allow: tuple[str, ...]) -> Trace:
    if not path.is_file():
        raise LooplensError(f"{path}: no such file")
    if path.suffix not in FILE_LANGUAGES:
        known = ", ".join(sorted(FILE_LANGUAGES))
        raise LooplensError(f"{path}: cannot trace '{path.suffix}' files (known: {known})")
    return trace_file(path.resolve(), limits=limits, virtual_time=virtual_time, allow=allow)


def _format(trace: Trace, output_format: str) -> str:
    if output_format == "json":
        return json.dumps(_json(trace), indent=2, ensure_ascii=False) + "\n"
    if output_format == "mermaid":
        return render_mermaid(trace)
    truncated = " · trace truncated" if trace.truncated else ""
    return f"{render_text(trace)}\n\n{trace.runtime} · exit code {trace.exit_code}{truncated}\n"


def _json(trace: Trace) -> dict[str, object]:
    # The documented fields first; the full trace (callbacks, events) follows for tools.
    data = trace.to_dict()
    return {
        "runtime": data.pop("runtime"),
        "exit_code": data.pop("exit_code"),
        "lines": data.pop("lines"),
        **data,
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="looplens", description="Trace event-loop snippets and show what really ran, and when."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    trace = commands.add_parser("trace", help="trace one snippet file (.js .cjs .mjs .ts .py)")
    trace.add_argument("file", help="the snippet to run")
    trace.add_argument("--format", choices=FORMATS, default="table", help="output format")
    trace.add_argument(
        "--allow",
        default="",
        help="what the sandbox lets the snippet do, as in a fence: worker,net,child,read,write",
    )
    defaults = Limits()
    for setting in LIMIT_SETTINGS:
        trace.add_argument(
            f"--{setting.option}",
            default=setting.written(getattr(defaults, setting.field)),
            help=f"{_FLAG_HELP[setting.field]} (default: %(default)s)",
        )
    trace.add_argument(
        "--real-time",
        action="store_true",
        help="Python: let asyncio's timers wait in real time instead of jumping over sleeps",
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
