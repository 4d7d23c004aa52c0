"""The Mermaid sequence diagram of a run: who scheduled what, when it ran, what it printed.

Participants are the call stack of each thread, the queues that took part, and the console. A
callback entering a queue is an arrow from the stack that scheduled it to that queue; a callback
starting is an arrow from its queue back to the stack; a printed line is an arrow to the console.
A note marks each step of the logical clock, and a note across the whole diagram each new turn of
the main thread's loop (turn 0, the main script's, is where the diagram starts).

A run that does the same few steps over and over (a server accepting connection after
connection, a loop of timers) shows them once, then a note saying how many times more, and goes
on: the diagram reaches what the run printed instead of filling its length with copies.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from looplens.queues import QUEUE_TABLE, QUEUES_BY_NAME
from looplens.render.html_text import visible
from looplens.trace import MAIN_THREAD, Callback, Event, Trace

MAX_MESSAGES = 80
#: A block of at most this many steps, seen at least MIN_REPEATS times in a row, is summarised.
MAX_REPEATED_BLOCK = 6
MIN_REPEATS = 3

_UNSAFE = re.compile(r"[#;<>&%]")
_ENTITIES = {"#": "#35;", ";": "#59;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "%": "#37;"}


def render_mermaid(trace: Trace) -> str:
    """Mermaid source for the run; long runs end with a note saying how much was left out."""
    callbacks = {callback.id: callback for callback in trace.callbacks}
    events = [event for event in trace.events if event.callback in callbacks]
    messages = _summarised(list(_messages(trace, callbacks, events)))
    shown = messages[:MAX_MESSAGES]
    if len(messages) > MAX_MESSAGES:
        left_out = len(messages) - MAX_MESSAGES
        note = f"    Note over {_stack(MAIN_THREAD)}: … {left_out} more steps, see the table"
        shown.append(_Message(note, (_stack(MAIN_THREAD),)))
    used = {alias for message in shown for alias in message.participants}
    header = ["sequenceDiagram"] + [
        f"    participant {alias} as {_escape(title)}"
        for alias, title in _participants(trace)
        if alias in used or alias == _stack(MAIN_THREAD)
    ]
    return "\n".join(header + [message.text for message in shown]) + "\n"


@dataclass(frozen=True, slots=True)
class _Message:
    text: str
    participants: tuple[str, ...]


def _messages(
    trace: Trace, callbacks: dict[int, Callback], events: list[Event]
) -> Iterator[_Message]:
    clock: float | None = None
    turn = 0
    # Other threads count turns of their own, which the note spanning them must not seem to be.
    whose = " (main thread)" if any(cb.thread != MAIN_THREAD for cb in callbacks.values()) else ""
    for event in events:
        callback = callbacks[event.callback]
        stack = _stack(callback.thread)
        if event.kind == "run" and callback.thread == MAIN_THREAD and callback.turn != turn:
            turn = callback.turn
            main = _stack(MAIN_THREAD)
            note = f"    Note over {main},console: turn {turn}{whose}"
            yield _Message(note, (main, "console"))
        if event.kind == "queued":
            if callback.parent is None:
                continue
            parent = callbacks.get(callback.parent)
            origin = _stack(parent.thread) if parent else stack
            queue = _queue(callback.queue)
            yield _Message(
                f"    {origin}->>{queue}: {_escape(_scheduled(callback))}", (origin, queue)
            )
        elif event.kind == "run":
            if event.t != clock:
                clock = event.t
                yield _Message(f"    Note over {stack}: t = {clock:g} ms", (stack,))
            if callback.parent is not None:
                queue = _queue(callback.queue)
                yield _Message(f"    {queue}->>{stack}: {_escape(_ran(callback))}", (queue, stack))
        elif event.line_index is not None:
            printed = trace.lines[event.line_index]
            text = printed.text or "(empty line)"
            if printed.stream == "stderr":
                text = f"stderr: {text}"
            yield _Message(f"    {stack}->>console: {_escape(text)}", (stack, "console"))


_DIGITS = re.compile(r"\d+(?:\.\d+)?")


def _summarised(messages: list[_Message]) -> list[_Message]:
    """The messages with each run of a repeated block (the same steps, their turn and time
    aside) kept once and the rest said in a note."""
    shapes = [_DIGITS.sub("#", message.text) for message in messages]
    kept: list[_Message] = []
    index = 0
    while index < len(messages):
        best: tuple[int, int] | None = None  # (repeats, block length)
        for length in range(1, MAX_REPEATED_BLOCK + 1):
            block = shapes[index : index + length]
            if len(block) < length:
                break
            repeats = 1
            while shapes[index + repeats * length : index + (repeats + 1) * length] == block:
                repeats += 1
            if repeats >= MIN_REPEATS and (best is None or repeats * length > best[0] * best[1]):
                best = (repeats, length)
        if best is None:
            kept.append(messages[index])
            index += 1
            continue
        repeats, length = best
        kept.extend(messages[index : index + length])
        skipped = messages[index + length : index + repeats * length]
        kept.append(_repeated_note(length, repeats - 1, skipped))
        index += repeats * length
    return kept


def _repeated_note(length: int, times: int, skipped: list[_Message]) -> _Message:
    turns = [int(found[1]) for m in skipped if (found := re.search(r": turn (\d+)", m.text))]
    clocks = [found[1] for m in skipped if (found := re.search(r": t = (\S+) ms", m.text))]
    where = []
    if turns:
        where.append(f"turns {turns[0]} to {turns[-1]}")
    if clocks:
        where.append(f"t = {clocks[0]} to {clocks[-1]} ms")
    steps = "step" if length == 1 else f"{length} steps"
    text = f"… the {steps} above, {times} more times" + (f" ({', '.join(where)})" if where else "")
    main = _stack(MAIN_THREAD)
    return _Message(f"    Note over {main},console: {_escape(text)}", (main, "console"))


def _participants(trace: Trace) -> list[tuple[str, str]]:
    participants = [(_stack(MAIN_THREAD), "Call stack")]
    for thread in dict.fromkeys(callback.thread for callback in trace.callbacks):
        if thread != MAIN_THREAD:
            participants.append((_stack(thread), f"Call stack ({thread})"))
    used = {callback.queue for callback in trace.callbacks}
    for queue in QUEUE_TABLE:
        if queue.title is not None and queue.name in used:
            participants.append((_queue(queue.name), queue.title))
    participants.append(("console", "Console"))
    return participants


def _scheduled(callback: Callback) -> str:
    where = f" (line {callback.line})" if callback.line is not None else ""
    queue = QUEUES_BY_NAME.get(callback.queue)
    due = f", due at {callback.t:g} ms" if queue is not None and queue.timed else ""
    return f"{callback.api}{where}{due}"


def _ran(callback: Callback) -> str:
    where = f" from line {callback.line}" if callback.line is not None else ""
    # A task step is not a callback in asyncio's words: "run Task-2 step (child)".
    what = callback.api if callback.queue == "task" else f"{callback.api} callback"
    return f"run {what}{where}"


def _stack(thread: str) -> str:
    return "stack" if thread == MAIN_THREAD else "stack_" + re.sub(r"\W", "_", thread)


def _queue(queue: str) -> str:
    return "q_" + queue


def _escape(text: str) -> str:
    # Mermaid reads '#…;' as an entity, ';' as the end of a statement, '%%' as a comment or a
    # directive, and '<' may open HTML; a line break (CR too) ends a message.
    return _UNSAFE.sub(lambda match: _ENTITIES[match.group()], visible(text)).replace("\n", " ")
