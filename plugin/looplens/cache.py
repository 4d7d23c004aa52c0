"""A content-addressed cache of traces and rendered runs on disk, safe for concurrent builds.

An entry is named by the digest of everything that can change it (see digests.snippet_digest and
cache_key.RenderKey), so it is never stale: a changed input is a different name. Writes go to a
temporary file beside the entry and are renamed over it (atomic on POSIX), so a reader sees a whole
entry or none, even with two builds writing at once. A truncated or unreadable entry is a miss,
never an error.

A snippet run several times (to see whether its order changes) is one entry holding all its runs,
`{"runs": [trace, ...]}`, under a digest that includes the count: a set of runs is kept whole or
not at all, and an entry of the other kind (or of an older format) reads as a miss.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from looplens.trace import Trace

_Value = TypeVar("_Value")

#: The sub-folder of rendered runs; traces sit at the top level, by the first two hex digits.
RENDERED_FOLDER = "rendered"


class TraceCache:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        # Entries are read by the hundred on a warm build: plain strings for their paths, which
        # cost a fraction of pathlib's objects.
        self._root = os.fspath(folder)

    def get_entry(self, digest: str) -> tuple[Trace, str] | None:
        """The trace and a digest of its content (what a drawn block of it is named by)."""
        return self._entry(digest, Trace.from_json)

    def put(self, digest: str, trace: Trace) -> str:
        """Keep `trace` under `digest`; returns the digest of its content."""
        return self._put(digest, trace.to_json())

    def get_runs_entry(self, digest: str) -> tuple[tuple[Trace, ...], str] | None:
        """All the runs of one snippet and a digest of the entry's content."""
        return self._entry(digest, _runs_from_json)

    def put_runs(self, digest: str, runs: tuple[Trace, ...]) -> str:
        """Keep all the runs of one snippet under `digest`; returns the digest of its content."""
        return self._put(digest, json.dumps({"runs": [trace.to_dict() for trace in runs]}))

    def _entry(self, digest: str, parse: Callable[[str], _Value]) -> tuple[_Value, str] | None:
        text = self._read(self._path(digest))
        if text is None:
            return None
        try:
            return parse(text), _sha256(text)
        except (ValueError, KeyError, TypeError):
            # Half-written by a crashed older version, from another trace version, or an entry
            # of the other kind (a single trace where a set of runs was asked for, or the reverse).
            return None

    def _put(self, digest: str, text: str) -> str:
        self._write(self._path(digest), text)
        return _sha256(text)

    def discard(self, digest: str) -> None:
        """Drop the entry named `digest` (a trace or a set of runs), if there is one."""
        with contextlib.suppress(OSError):
            Path(self._path(digest)).unlink()

    def get_rendered(self, key: str) -> str | None:
        # HTML cannot tell a damaged copy from a whole one, as JSON can: the entry's first line is
        # the digest of the rest, and an entry that does not match it is a miss.
        text = self._read(self._rendered_path(key))
        check, _, html = (text or "").partition("\n")
        return html if text is not None and check == _sha256(html) else None

    def put_rendered(self, key: str, html: str) -> None:
        self._write(self._rendered_path(key), f"{_sha256(html)}\n{html}")

    def _read(self, path: str) -> str | None:
        try:
            with open(path, encoding="utf-8") as file:  # noqa: PTH123 (see __init__)
                return file.read()
        except (OSError, ValueError):
            # Missing, unreadable, or not UTF-8 (a damaged entry): a miss.
            return None

    def _write(self, name: str, text: str) -> None:
        path = Path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=".tmp-", suffix=path.suffix
        )
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                file.write(text)
            Path(temporary).replace(path)
        except BaseException:
            with contextlib.suppress(OSError):
                Path(temporary).unlink()
            raise

    def _path(self, digest: str) -> str:
        return f"{self._root}/{digest[:2]}/{digest}.json"

    def _rendered_path(self, key: str) -> str:
        return f"{self._root}/{RENDERED_FOLDER}/{key[:2]}/{key}.html"


def _runs_from_json(text: str) -> tuple[Trace, ...]:
    runs = tuple(Trace.from_dict(trace) for trace in json.loads(text)["runs"])
    if not runs:
        raise ValueError("a set of runs holds at least one")
    return runs


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
