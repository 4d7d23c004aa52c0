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


@dataclass(frozen=True, slots=True)
class Column:
    #: The header as a reader reads it, and the word a phone shows beside a value.
    header: str
    #: The cell's class, `looplens-col-<name>`: its width and place (assets/looplens.css).
    name: str
    #: A tooltip, where one word cannot say it all.
    title: str = ""


INDEX = Column("#", "index")
PRINTED = Column("Printed", "printed")
STREAM = Column("Stream", "stream")
QUEUE = Column("Queue", "queue")
THREAD = Column("Thread", "thread")
TURN = Column(
    "Turn",
    "turn",
    "The pass of the event loop it ran in, counted per thread: 0 is the main script and the "
    "nextTicks and microtasks it leaves",
)
SCHEDULED = Column("Scheduled by", "scheduled")
TIME = Column("t", "time", "The logical time at which its callback was due")


def render_table(trace: Trace, differs: Differs | None = None) -> str:
    """An HTML table of the printed lines, in real order, that fits its column: narrow columns
    for the short values, the printed text wrapping; on a phone each line a small card, its
    text and queue side by side (assets/looplens.css). The lines of `differs` are marked as
    printed otherwise on the runtime it names."""
    with_threads = any(line.thread != MAIN_THREAD for line in trace.lines)
    columns = [INDEX, PRINTED, STREAM, QUEUE, TURN, SCHEDULED, TIME]
    if with_threads:
        columns.insert(4, THREAD)
    head = "".join(
        f'<th scope="col" class="looplens-col-{column.name}"'
        + (f' title="{text(column.title)}"' if column.title else "")
        + f">{text(column.header)}</th>"
        for column in columns
    )
    rows = "".join(
        _row(index, line, trace, columns, differs) for index, line in enumerate(trace.lines)
    )
    if not trace.lines:
        rows = f'<tr><td colspan="{len(columns)}"><em>The snippet printed nothing.</em></td></tr>'
    # A class of its own: Material styles (and wraps in a sideways scroller) class-less tables.
    return (
        '<div class="looplens-output"><table class="looplens-table">'
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
    index: int,
    line: PrintedLine,
    trace: Trace,
    columns: list[Column],
    differs: Differs | None,
) -> str:
    printed = text(line.text) if line.text else '<span class="looplens-empty">(empty line)</span>'
    number = str(index + 1)
    marked = differs is not None and index in differs.lines
    note = f"differs from {differs.primary}" if differs is not None else ""
    if marked:
        # Marked in words too (read out with the number, shown as a sign), not by colour alone.
        number += (
            '<span class="looplens-differs-mark" aria-hidden="true">≠</span>'
            f'<span class="looplens-visually-hidden">, {text(note)}</span>'
        )
    values = {
        INDEX: number,
        PRINTED: f"<code>{printed}</code>",
        STREAM: _chip("stream", line.stream),
        QUEUE: _chip("queue", line.queue),
        THREAD: text(line.thread),
        TURN: str(line.turn),
        SCHEDULED: text(scheduled_by(line, trace)),
        TIME: format_time(line.t),
    }
    row = "".join(
        f'<td class="looplens-col-{column.name}" data-label="{text(column.header)}">'
        f"{values[column]}</td>"
        for column in columns
    )
    if not marked:
        return f"<tr>{row}</tr>"
    return f'<tr class="looplens-differs" title="{text(note)}">{row}</tr>'


def _chip(kind: str, value: str) -> str:
    return f'<span class="looplens-{kind} looplens-{kind}--{value}">{value}</span>'
