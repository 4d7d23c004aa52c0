"""Run one snippet through the tracer of its language (by its file name's extension).

Each snippet runs from a fresh temporary folder under the name its fence gives it, so the file
name decides CommonJS / ES module / TypeScript, and nothing a snippet writes outlives its run. The
folder's path is replaced in the printed text by DISPLAY_FOLDER, so pages do not depend on temp
names.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from looplens.errors import TracerError
from looplens.limits import LimitError, Limits
from looplens.margins import DEFAULT_MIN_MARGIN_MS, MAX_ATTEMPTS, disturbance
from looplens.runtimes.runtime import Runtime
from looplens.snippet import FILE_LANGUAGES, Snippet
from looplens.trace import Trace
from looplens.tracing.display import DISPLAY_FOLDER

#: Runs of a marked snippet whose fence sets no runs= (and the site asks for fewer).
MARKED_RUNS = 20
#: The site's limits when mkdocs.yml sets none; a fence may set its own (Snippet.limits).
DEFAULT_LIMITS = Limits()


def trace_snippet(
    snippet: Snippet, options: Limits = DEFAULT_LIMITS, runtime: Runtime | None = None
) -> Trace:
    """Trace one snippet on `runtime` (by default its language's newest); raises TracerError
    (with the snippet's page and line, and the runtime) if it cannot."""
    with tempfile.TemporaryDirectory(prefix="looplens-") as folder:
        path = Path(folder) / snippet.filename
        path.write_text(snippet.source, encoding="utf-8")
        try:
            return trace_file(
                path,
                limits=snippet.limits.over(options),
                display_path=DISPLAY_FOLDER,
                virtual_time=snippet.clock == "virtual",
                allow=snippet.allow,
                runtime=runtime,
            )
        except LimitError as error:
            raise error.located(_where(snippet, runtime)) from error
        except TracerError as error:
            raise TracerError(f"{_where(snippet, runtime)}: {error}") from error


def _where(snippet: Snippet, runtime: Runtime | None) -> str:
    return snippet.where if runtime is None else f"{snippet.where} on {runtime.name.title}"


def trace_file(
    path: Path,
    *,
    timeout_s: float | None = None,
    display_path: str | None = None,
    virtual_time: bool = True,
    limits: Limits | None = None,
    allow: tuple[str, ...] = (),
    runtime: Runtime | None = None,
) -> Trace:
    """Trace a file with the tracer of its language (by extension), sandboxed and limited, on
    `runtime` (by default the language's newest Node, or the Python that runs looplens)."""
    # The tracers are imported on first use: a warm build, served from the cache, never runs one
    # and should not pay for loading them (a tenth of the plugin's whole overhead).
    from looplens.tracing.node.tracer import trace_javascript
    from looplens.tracing.python.tracer import trace_python

    language = FILE_LANGUAGES.get(path.suffix)
    if runtime is not None and language is not None and runtime.language != language:
        raise TracerError(f"{path.name}: a {language} file cannot run on {runtime.name}")
    if language == "javascript":
        return trace_javascript(
            path,
            timeout_s=timeout_s,
            display_path=display_path,
            limits=limits,
            allow=allow,
            runtime=runtime,
        )
    if language == "python":
        return trace_python(
            path,
            timeout_s=timeout_s,
            display_path=display_path,
            virtual_time=virtual_time,
            limits=limits,
            allow=allow,
            runtime=runtime,
        )
    raise TracerError(f"{path.name}: cannot trace '{path.suffix}' files")


def runs_for(snippet: Snippet, site_runs: int) -> int:
    """How many times a snippet runs: its fence's runs=, else the site's (at least MARKED_RUNS
    for a marked snippet, whose page shows counts)."""
    if snippet.runs is not None:
        return snippet.runs
    return max(site_runs, MARKED_RUNS) if snippet.nondeterministic else site_runs


def trace_runs(
    snippet: Snippet,
    options: Limits,
    runs: int,
    min_margin_ms: float = DEFAULT_MIN_MARGIN_MS,
    report: Callable[[str], None] | None = None,
    runtime: Runtime | None = None,
) -> tuple[Trace, ...]:
    """Run a snippet `runs` times, one after the other (as a reader would run it), to see whether
    its printed order changes; TracerError if any run cannot be traced. A run that the machine
    disturbed (see looplens.margins) is said to `report` and run again."""
    return tuple(
        undisturbed_run(snippet, options, min_margin_ms, report, runtime) for _ in range(runs)
    )


def undisturbed_run(
    snippet: Snippet,
    options: Limits,
    min_margin_ms: float = DEFAULT_MIN_MARGIN_MS,
    report: Callable[[str], None] | None = None,
    runtime: Runtime | None = None,
) -> Trace:
    """One run whose orders its own timing decided, not the machine's load: a disturbed run
    proves nothing, so it runs again, MAX_ATTEMPTS times at most; the last is kept as it is (the
    checks then judge its margins as measured)."""
    margin = snippet.min_margin_ms or min_margin_ms
    for attempt in range(1, MAX_ATTEMPTS + 1):
        trace = trace_snippet(snippet, options, runtime)
        stalled = disturbance(trace, margin)
        if stalled is None or attempt == MAX_ATTEMPTS:
            return trace
        if report is not None:
            report(
                f"{_where(snippet, runtime)}: run disturbed by the machine's load "
                f"(an order decided with {stalled.margin_ms:g} ms to spare, in a window where "
                f"the process waited {stalled.stall_ms:g} ms to run): running it again "
                f"({attempt + 1} of at most {MAX_ATTEMPTS})"
            )
    raise AssertionError("unreachable: the last attempt returns")
