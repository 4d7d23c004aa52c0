"""A content-addressed cache of traces on disk, safe for concurrent builds.

An entry is named by the digest of everything that can change a run (see run.snippet_digest), so
it is never stale: a changed input is a different name. Writes go to a temporary file beside the
entry and are renamed over it (atomic on POSIX), so a reader sees a whole entry or none, even
with two builds writing at once. A truncated or unreadable entry is a miss, never an error.

A snippet run several times (to see whether its order changes) is one entry holding all its runs,
`{"runs": [trace, ...]}`, under a digest that includes the count: a set of runs is kept whole or
not at all, and an entry of the other kind (or of an older format) reads as a miss.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

from looplens.trace import Trace


class TraceCache:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def get(self, digest: str) -> Trace | None:
        try:
            return Trace.from_json(self._path(digest).read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError, TypeError):
            # Missing, half-written by a crashed older version, or from another trace version.
            return None

    def get_runs(self, digest: str) -> tuple[Trace, ...] | None:
        """All the runs of one snippet, or None (also for an entry that is a single trace)."""
        try:
            data = json.loads(self._path(digest).read_text(encoding="utf-8"))
            runs = tuple(Trace.from_dict(trace) for trace in data["runs"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return runs or None

    def put(self, digest: str, trace: Trace) -> None:
        self._write(digest, trace.to_json())

    def put_runs(self, digest: str, runs: tuple[Trace, ...]) -> None:
        self._write(digest, json.dumps({"runs": [trace.to_dict() for trace in runs]}))

    def _write(self, digest: str, text: str) -> None:
        path = self._path(digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                file.write(text)
            Path(temporary).replace(path)
        except BaseException:
            with contextlib.suppress(OSError):
                Path(temporary).unlink()
            raise

    def _path(self, digest: str) -> Path:
        return self.folder / digest[:2] / f"{digest}.json"
