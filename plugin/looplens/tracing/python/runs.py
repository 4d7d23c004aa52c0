"""The callbacks that reading the asyncio tracer's records builds: one per context."""

from __future__ import annotations

from dataclasses import dataclass

from looplens.trace import MAIN_THREAD

#: Events sort by (record index, sequence): the records are already in real order.
EventKey = tuple[int, int]


@dataclass(eq=False, slots=True)
class Run:
    """A callback being built: one context of the tracer."""

    queue: str
    api: str
    line: int | None
    parent: Run | None
    due: float
    #: Scheduled by the snippet's code (or runs it), not by asyncio's plumbing.
    user: bool
    thread: str = MAIN_THREAD
    ran: bool = False
    printed: bool = False
    first_key: EventKey | None = None
    #: The loop turn it ran in (see looplens.trace): the pass of its loop's _run_once.
    turn: int = 0
    #: For a timer: its delay (ms).
    delay_ms: float = 0.0
    #: Which thread queued it, when (loop clock, µs) and that thread's run-queue delay then (µs);
    #: when it started, and its thread's run-queue delay then (see margins.py).
    queued_thread: str = MAIN_THREAD
    queued_us: int | None = None
    queued_rd: int | None = None
    started_us: int | None = None
    started_rd: int | None = None
    #: For a task step: the number of its task (steps of one task run one after the other).
    task: int | None = None
