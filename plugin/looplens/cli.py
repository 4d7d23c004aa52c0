"""`looplens trace FILE`: trace one snippet file and print what really ran, and when;
`looplens runtimes`: the runtimes found here; `looplens runtimes install`: install the Node
releases that are missing; `looplens install`: those and the Mermaid that draws the diagrams.

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
from looplens.runtimes.install import install_nodes
from looplens.runtimes.matrix import DEFAULT_RUNTIMES, find_runtime, find_runtimes
from looplens.runtimes.runtime import Runtime, RuntimeName
from looplens.site.mermaid import install_mermaid
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
    if arguments.command == "runtimes":
        return _runtimes(arguments)
    if arguments.command == "install":
        return _install()
    try:
        allow = tuple(name for name in arguments.allow.split(",") if name)
        unknown = [name for name in allow if name not in PERMISSIONS]
        if unknown:
            raise LooplensError(
                f"--allow cannot open '{unknown[0]}' (known: {', '.join(PERMISSIONS)})"
            )
        limits = _limits(arguments)
        runtime = find_runtime(arguments.runtime) if arguments.runtime else None
        trace = _trace_file(Path(arguments.file), limits, not arguments.real_time, allow, runtime)
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


def _install() -> int:
    """Everything a site needs besides the package: the Node releases and Mermaid."""

    def say(line: str) -> None:
        print(line, file=sys.stderr)

    try:
        install_nodes([RuntimeName.parse(name) for name in DEFAULT_RUNTIMES], report=say)
        install_mermaid(report=say)
    except LooplensError as error:
        print(f"looplens: {error}", file=sys.stderr)
        return 2
    return 0


def _runtimes(arguments: argparse.Namespace) -> int:
    """List the runtimes (all those a site proves on by default, found or not), or install the
    missing Node releases."""
    try:
        names = [RuntimeName.parse(text) for text in (arguments.names or DEFAULT_RUNTIMES)]
        if arguments.action == "install":
            install_nodes(names, report=lambda line: print(line, file=sys.stderr))
        matrix = find_runtimes(names)
    except LooplensError as error:
        print(f"looplens: {error}", file=sys.stderr)
        return 2
    found = {runtime.name: runtime for runtime in matrix.runtimes}
    for name in sorted(names, key=lambda name: name.sort_key):
        runtime = found.get(name)
        where = f"{runtime.version}  {runtime.executable}" if runtime else "not found"
        print(f"{name!s:12} {where}")
    missing_nodes = [name for name in matrix.missing if name.kind == "node"]
    return 1 if arguments.action == "install" and missing_nodes else 0


def _trace_file(
    path: Path,
    limits: Limits,
    virtual_time: bool,
    allow: tuple[str, ...],
    runtime: Runtime | None = None,
) -> Trace:
    if not path.is_file():
        raise LooplensError(f"{path}: no such file")
    if path.suffix not in FILE_LANGUAGES:
        known = ", ".join(sorted(FILE_LANGUAGES))
        raise LooplensError(f"{path}: cannot trace '{path.suffix}' files (known: {known})")
    return trace_file(
        path.resolve(), limits=limits, virtual_time=virtual_time, allow=allow, runtime=runtime
    )


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
    trace.add_argument(
        "--runtime",
        help="run on this runtime, e.g. node@20 or python@3.12 (`looplens runtimes` lists them; "
        "default: the newest Node, or the Python running looplens)",
    )
    commands.add_parser(
        "install",
        help="install what a site needs besides the package: the Node releases a site proves "
        "on, and the Mermaid that draws its diagrams",
    )
    runtimes = commands.add_parser(
        "runtimes", help="list the runtimes found here, or install the missing Node releases"
    )
    runtimes.add_argument("action", nargs="?", choices=("list", "install"), default="list")
    runtimes.add_argument(
        "names", nargs="*", help="runtimes such as node@20 (default: the ones a site proves on)"
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
