"""Line up the writes that the Node preload recorded with the bytes that really came out.

The text of every printed line comes from the real stdout and stderr bytes, never from the
records, so the traced output is exactly what Node wrote. The records only say who wrote which
bytes, and in which order the two streams were written.

Each recorded write is looked for where the previous one ended. Some bytes no record accounts
for: a child process sharing stdout, Node printing an uncaught error's stack from C++. They came
out after the write before them and before the write after them, and never belong to the write
after them:
- if Node died in between, they are its report, and belong to the callback that died;
- else, when the time each chunk of output was read is known (on the monotonic clock that the
  preload stamps its records with), to the callback that ran longest between the write before
  them and the moment they were read (a callback blocked in execFileSync, say; with no write
  before them on their stream, the one that started last);
- else to the callback of the write before them (at the start of a stream, the main script).
Read times also keep a write off bytes that were read before it was made: when someone else
prints the same text just before, the write is found after it, so nothing shifts. And when
unrecorded bytes start a line, the next write is only looked for at the start of a line.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

# Exported (`as`): the records that OutputBuilder lines up take the arrivals' type from here.
from looplens.sandbox.process import Arrivals as Arrivals
from looplens.trace import Stream

Owner = TypeVar("Owner")


@dataclass(frozen=True, slots=True)
class Piece(Generic[Owner]):
    """Bytes of one write, owned by a callback, at a logical time, at a record index."""

    stream: Stream
    size: int
    text: str
    owner: Owner
    t: float
    index: int
    #: Microseconds on the monotonic clock, taken before the bytes went out (if known).
    us: int | None = None


@dataclass(frozen=True, slots=True)
class Line(Generic[Owner]):
    text: str
    stream: Stream
    owner: Owner
    t: float
    #: The record index of the write that printed the line's first byte.
    index: int


@dataclass(frozen=True, slots=True)
class _Segment(Generic[Owner]):
    start: int
    #: Sorts the segments of both streams into the order they were written: (record index,
    #: position among the writes, rank).
    order: tuple[int, int, int]
    piece: Piece[Owner]


@dataclass(slots=True)
class _Span(Generic[Owner]):
    """A callback ran from `start` to `end` microseconds (None: to the end); it started at
    record `index`."""

    start: int
    index: int
    owner: Owner
    t: float
    end: int | None = None


@dataclass(frozen=True, slots=True)
class _Ends(Generic[Owner]):
    last_owner: Owner | None
    last_t: float
    end_index: int
    first_owner: tuple[Owner, float] | None


class _Clock:
    """When the byte at an offset was read, at the latest."""

    def __init__(self, arrivals: Arrivals) -> None:
        self._ends = [end for end, _ in arrivals]
        self._times = [us for _, us in arrivals]

    def at(self, offset: int) -> int | None:
        chunk = bisect.bisect_right(self._ends, offset)
        return self._times[chunk] if chunk < len(self._times) else None


class OutputBuilder(Generic[Owner]):
    def __init__(self) -> None:
        self._pieces: list[Piece[Owner]] = []
        # A worker's writes wait here until the main thread relays them to the real stream.
        self._pending: dict[tuple[str, Stream], list[Piece[Owner]]] = defaultdict(list)
        self._deaths: list[tuple[int, Owner, float]] = []
        self._spans: list[_Span[Owner]] = []

    def write(self, piece: Piece[Owner]) -> None:
        self._pieces.append(piece)

    def worker_write(self, thread: str, piece: Piece[Owner]) -> None:
        self._pending[thread, piece.stream].append(piece)

    def started(self, owner: Owner, t: float, index: int, us: int | None) -> None:
        """A callback started running at record `index` (at `us` microseconds, if known)."""
        if us is not None:
            self._spans.append(_Span(us, index, owner, t))

    def ended(self, owner: Owner, us: int | None) -> None:
        """The callback stopped running (at `us` microseconds, if known)."""
        if us is None:
            return
        for span in reversed(self._spans):
            if span.owner is owner and span.end is None:
                span.end = us
                return

    def death(self, owner: Owner, t: float, index: int) -> None:
        """An uncaught error at record `index`: Node may print its stack past the records."""
        self._deaths.append((index, owner, t))

    def relay(self, relay: Piece[Owner], thread: str | None = None) -> None:
        """A thread writes a worker's output: the worker's pieces land here.

        The main thread (`thread` None) writes them to the real stream; a worker `thread` passes
        its own worker's output on to its parent, as if it had written it.
        """
        for (writer, stream), pending in self._pending.items():
            if writer == thread or stream != relay.stream:
                continue
            if "".join(p.text for p in pending).startswith(relay.text):
                parts = self._take(pending, relay)
                if thread is None:
                    self._pieces.extend(parts)
                else:
                    self._pending[thread, stream].extend(parts)
                return
        if thread is None:
            self._pieces.append(relay)
        else:
            self._pending[thread, relay.stream].append(relay)

    def _take(self, pending: list[Piece[Owner]], relay: Piece[Owner]) -> list[Piece[Owner]]:
        # A relay may carry part of a worker write or several of them: split by characters.
        remaining = len(relay.text)
        parts: list[Piece[Owner]] = []
        while remaining > 0 and pending:
            piece = pending[0]
            if len(piece.text) <= remaining:
                part = pending.pop(0)
            else:
                head, tail = piece.text[:remaining], piece.text[remaining:]
                pending[0] = replace(piece, text=tail, size=_size(tail))
                part = replace(piece, text=head, size=_size(head))
            remaining -= len(part.text)
            parts.append(replace(part, stream=relay.stream, index=relay.index, us=relay.us))
        return parts

    def lines(
        self,
        output: dict[Stream, bytes],
        last_owner: Owner | None,
        last_t: float,
        end_index: int,
        first_owner: tuple[Owner, float] | None = None,
        arrivals: dict[Stream, Arrivals] | None = None,
    ) -> list[Line[Owner]]:
        """The lines of the real output, each with the owner of its first byte.

        Without read times, unrecorded bytes after the last write go to `last_owner` if given
        (the callback still running at the end); before the first write, to `first_owner`
        (default: `last_owner`).
        """
        ends = _Ends(last_owner, last_t, end_index, first_owner)
        found: list[tuple[tuple[int, int, int], int, Line[Owner]]] = []
        for stream, data in output.items():
            times = (arrivals or {}).get(stream)
            clock = _Clock(times) if times and self._spans else None
            segments = self._segments(stream, data, ends, clock)
            starts = [segment.start for segment in segments]
            offset = 0
            for raw in _split_lines(data):
                segment = segments[bisect.bisect_right(starts, offset) - 1]
                text = raw.decode("utf-8", errors="replace")
                piece = segment.piece
                found.append(
                    (segment.order, offset, Line(text, stream, piece.owner, piece.t, piece.index))
                )
                offset += len(raw) + 1
        found.sort(key=lambda item: (item[0], item[1]))
        return [line for _, _, line in found]

    def _segments(
        self, stream: Stream, data: bytes, ends: _Ends[Owner], clock: _Clock | None
    ) -> list[_Segment[Owner]]:
        segments: list[_Segment[Owner]] = []
        cursor = 0
        previous: _Segment[Owner] | None = None
        for position, piece in enumerate(self._pieces):
            if piece.stream != stream or cursor >= len(data):
                continue
            located = _locate(data, piece, cursor, clock)
            if located is None:
                # It never came out (or not where it could be): it owns no bytes.
                continue
            start, size = located
            if start > cursor:
                segments.append(self._gap(stream, cursor, previous, piece.index, ends, clock))
            previous = _Segment(start, (piece.index, position, 0), piece)
            segments.append(previous)
            cursor = start + size
        if cursor < len(data):
            segments.append(self._gap(stream, cursor, previous, None, ends, clock))
        return segments

    def _gap(
        self,
        stream: Stream,
        start: int,
        previous: _Segment[Owner] | None,
        next_index: int | None,
        ends: _Ends[Owner],
        clock: _Clock | None,
    ) -> _Segment[Owner]:
        """Bytes from `start` that no record accounts for, before the write at `next_index`."""
        rank = 0 if stream == "stdout" else 1
        after = previous.piece.index if previous is not None else -1

        def between(index: int) -> bool:
            return after < index and (next_index is None or index < next_index)

        deaths = [death for death in self._deaths if between(death[0])]
        # They sort after the write before them and before the write after them, at the record
        # of their owner if it lies in between (a crash report after the death), else right
        # after the write before them.
        if previous is not None:
            index, position, _ = previous.order
            order = (index, position, 1)
        else:
            order = (0, -1, rank)

        def placed(owner: Owner, t: float, index: int) -> _Segment[Owner]:
            at = (index, _AFTER_WRITES, rank) if between(index) else order
            return _Segment(start, at, Piece(stream, 0, "", owner, t, max(index, order[0])))

        if deaths:
            # Node reports an uncaught error past the records, when it dies.
            index, owner, t = deaths[-1]
            return placed(owner, t, index)
        read = clock.at(start) if clock is not None else None
        if read is not None:
            since = previous.piece.us if previous is not None else None
            span = self._busiest(since, read)
            if span is not None:
                return placed(span.owner, span.t, span.index)
        elif next_index is None and ends.last_owner is not None:
            return placed(ends.last_owner, ends.last_t, ends.end_index)
        if previous is not None:
            return _Segment(start, order, previous.piece)
        if ends.first_owner is not None:
            owner, t = ends.first_owner
        elif ends.last_owner is not None:
            owner, t = ends.last_owner, ends.last_t
        else:
            raise ValueError("unrecorded output with no owner to give it to")
        return _Segment(start, order, Piece(stream, 0, "", owner, t, 0))

    def _busiest(self, since: int | None, until: int) -> _Span[Owner] | None:
        """The callback that ran longest between two moments: the bytes came out then, and the
        later moment, when they were read, may lag behind. Without the earlier moment, the one
        that started last."""
        best: _Span[Owner] | None = None
        best_overlap = -1
        for span in self._spans:
            if span.start > until:
                continue
            if since is None:
                best, best_overlap = span, 0
                continue
            end = until if span.end is None else min(span.end, until)
            overlap = end - max(span.start, since)
            if overlap >= best_overlap:
                best, best_overlap = span, overlap
        return best


def _locate(
    data: bytes, piece: Piece[Owner], cursor: int, clock: _Clock | None
) -> tuple[int, int] | None:
    """Where a recorded write is in `data`, from `cursor` on, and how many bytes it spans."""
    written = piece.text.encode("utf-8", errors="replace")
    if not written or piece.size == 0:
        return None

    def possible(offset: int) -> bool:
        # Bytes read before the write was made are someone else's.
        read = clock.at(offset) if clock is not None else None
        return read is None or piece.us is None or read >= piece.us

    if possible(cursor):
        if data.startswith(written, cursor):
            return cursor, len(written)
        # Bytes that are not UTF-8 were recorded as U+FFFD: compare them decoded.
        if data[cursor : cursor + piece.size].decode("utf-8", errors="replace") == piece.text:
            return cursor, piece.size
    at_line_start = cursor == 0 or data[cursor - 1] == _NEWLINE
    found = data.find(written, cursor + 1)
    while found > 0 and ((at_line_start and data[found - 1] != _NEWLINE) or not possible(found)):
        found = data.find(written, found + 1)
    return (found, len(written)) if found > 0 else None


_NEWLINE = ord("\n")
#: Unrecorded bytes placed at a record come after the writes of that record.
_AFTER_WRITES = 1 << 30


def _size(text: str) -> int:
    return len(text.encode("utf-8", errors="replace"))


def _split_lines(data: bytes) -> list[bytes]:
    """Lines without their newline; a last line without a newline still counts."""
    if not data:
        return []
    lines = data.split(b"\n")
    return lines[:-1] if data.endswith(b"\n") else lines
