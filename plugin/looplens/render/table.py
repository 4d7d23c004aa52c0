"""The output table: every printed line with the queue and the loop turn it ran in, drawn from a
Trace alone."""

from __future__ import annotations

from dataclasses import dataclass

from looplens.render.html_text import text
from looplens.trace import MAIN_THREAD, PrintedLine, Trace


@dataclass(frozen=True, slots=True)
class Differs:
    """The lines of a run that the primary runtime's run does not print so."""

    lines: frozenset[int]
    #: The primary runtime as a reader reads it: "Node 24".
    primary: str


_TURN_HEADER = "Turn"
#: A header's tooltip, where one word cannot say it all.
_TITLES = {
    _TURN_HEADER: ' title="The pass of the event loop it ran in, counted per thread: 0 is the main '
    'script and the nextTicks and microtasks it leaves"'
}


def render_table(trace: Trace, differs: Differs | None = None) -> str:
    """An HTML table (Material styles plain tables) of the printed lines, in real order; the
    lines of `differs` are marked as printed otherwise on the runtime it names."""
    with_threads = any(line.thread != MAIN_THREAD for line in trace.lines)
    headers = ["#", "Printed", "Stream", "Queue", _TURN_HEADER, "Scheduled by", "t"]
    if with_threads:
        headers.insert(4, "Thread")
    head = "".join(f"<th{_TITLES.get(header, '')}>{header}</th>" for header in headers)
    rows = "".join(
        _row(index, line, trace, with_threads, differs) for index, line in enumerate(trace.lines)
    )
    if not trace.lines:
        rows = f'<tr><td colspan="{len(headers)}"><em>The snippet printed nothing.</em></td></tr>'
    # The class sits on a wrapper: Material styles (and makes scrollable) only class-less tables.
    return (
        '<div class="looplens-output"><table>'
        f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>"
    )


def render_text(trace: Trace) -> str:
    """The same table as plain text, for a terminal."""
    header = ("#", "printed", "stream", "queue", "turn", "scheduled by", "t")
    rows = [header] + [
        (
            str(index + 1),
            line.text,
            line.stream,
            line.queue if line.thread == MAIN_THREAD else f"{line.queue} ({line.thread})",
            str(line.turn),
            scheduled_by(line, trace),
            format_time(line.t),
        )
        for index, line in enumerate(trace.lines)
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def scheduled_by(line: PrintedLine, trace: Trace) -> str:
    """'setTimeout, line 2' for a callback; '' for the main script."""
    if line.line is None and line.queue == "sync":
        return ""
    api = next((cb.api for cb in trace.callbacks if cb.id == line.callback), "")
    where = f"line {line.line}" if line.line is not None else ""
    return ", ".join(part for part in (api, where) if part)


def format_time(t: float) -> str:
    return f"{t:g} ms"


def _row(
    index: int, line: PrintedLine, trace: Trace, with_threads: bool, differs: Differs | None
) -> str:
    printed = text(line.text) if line.text else '<span class="looplens-empty">(empty line)</span>'
    cells = [
        f"{index + 1}",
        f"<code>{printed}</code>",
        f'<span class="looplens-stream looplens-stream--{line.stream}">{line.stream}</span>',
        f'<span class="looplens-queue looplens-queue--{line.queue}">{line.queue}</span>',
        str(line.turn),
        text(scheduled_by(line, trace)),
        format_time(line.t),
    ]
    if with_threads:
        cells.insert(4, text(line.thread))
    row = "".join(f"<td>{cell}</td>" for cell in cells)
    if differs is None or index not in differs.lines:
        return f"<tr>{row}</tr>"
    # Marked in words too (read out with the number, shown as a sign), not by colour alone.
    note = f"differs from {differs.primary}"
    mark = (
        f'<span class="looplens-differs-mark" aria-hidden="true">≠</span>'
        f'<span class="looplens-visually-hidden">, {text(note)}</span>'
    )
    numbered = row.replace(f"<td>{index + 1}</td>", f"<td>{index + 1}{mark}</td>", 1)
    return f'<tr class="looplens-differs" title="{text(note)}">{numbered}</tr>'
