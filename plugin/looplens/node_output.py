"""Line up the writes that the Node preload recorded with the bytes that really came out.

The text of every printed line comes from the real stdout and stderr bytes, never from the
records, so the traced output is exactly what Node wrote. The records only say who wrote which
bytes, and in which order the two streams were written. Bytes that no record accounts for (Node
prints an uncaught error's stack from C++, past the patched writes) go to the callback that was
running when the process died, after everything else.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

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
    order: tuple[int, int]
    piece: Piece[Owner]


class OutputBuilder(Generic[Owner]):
    def __init__(self) -> None:
        self._pieces: list[Piece[Owner]] = []
        # A worker's writes wait here until the main thread relays them to the real stream.
        self._pending: dict[tuple[str, Stream], list[Piece[Owner]]] = defaultdict(list)

    def write(self, piece: Piece[Owner]) -> None:
        self._pieces.append(piece)

    def worker_write(self, thread: str, piece: Piece[Owner]) -> None:
        self._pending[thread, piece.stream].append(piece)

    def relay(self, relay: Piece[Owner]) -> None:
        """The main thread writes a worker's output: the worker's pieces land here."""
        for (_, stream), pending in self._pending.items():
            if stream == relay.stream and "".join(p.text for p in pending).startswith(relay.text):
                self._take(pending, relay)
                return
        self._pieces.append(relay)

    def _take(self, pending: list[Piece[Owner]], relay: Piece[Owner]) -> None:
        # A relay may carry part of a worker write or several of them: split by characters.
        remaining = len(relay.text)
        while remaining > 0 and pending:
            piece = pending[0]
            if len(piece.text) <= remaining:
                part = pending.pop(0)
            else:
                head, tail = piece.text[:remaining], piece.text[remaining:]
                pending[0] = replace(piece, text=tail, size=_size(tail))
                part = replace(piece, text=head, size=_size(head))
            remaining -= len(part.text)
            self._pieces.append(replace(part, stream=relay.stream, index=relay.index))

    def lines(
        self, output: dict[Stream, bytes], last_owner: Owner, last_t: float, end_index: int
    ) -> list[Line[Owner]]:
        found: list[tuple[tuple[int, int], int, Line[Owner]]] = []
        for stream, data in output.items():
            segments = self._segments(
                stream, data, Piece(stream, 0, "", last_owner, last_t, end_index)
            )
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

    def _segments(self, stream: Stream, data: bytes, last: Piece[Owner]) -> list[_Segment[Owner]]:
        segments: list[_Segment[Owner]] = []
        cursor = 0
        for order, piece in enumerate(self._pieces):
            if piece.stream != stream or cursor >= len(data):
                continue
            written = piece.text.encode("utf-8", errors="replace")
            found = (
                -1
                if data.startswith(written, cursor) or not written
                else data.find(written, cursor)
            )
            if found > cursor:
                # Bytes that no patched write made (fs.writeSync(1, …), a child process sharing
                # stdout) came first: they belong to the code that runs now.
                segments.append(_Segment(cursor, (order, 0), piece))
                cursor = found
            segments.append(_Segment(cursor, (order, 1), piece))
            cursor += piece.size
        if cursor < len(data):
            # What is left came last; if both streams have some, stdout's goes first.
            rank = 0 if stream == "stdout" else 1
            segments.append(_Segment(cursor, (len(self._pieces), rank), last))
        return segments


def _size(text: str) -> int:
    return len(text.encode("utf-8", errors="replace"))


def _split_lines(data: bytes) -> list[bytes]:
    """Lines without their newline; a last line without a newline still counts."""
    if not data:
        return []
    lines = data.split(b"\n")
    return lines[:-1] if data.endswith(b"\n") else lines
