"""A content-addressed cache of traces on disk, safe for concurrent builds.

An entry is named by the digest of everything that can change a run (see run.snippet_digest), so
it is never stale: a changed input is a different name. Writes go to a temporary file beside the
entry and are renamed over it (atomic on POSIX), so a reader sees a whole entry or none, even
with two builds writing at once. A truncated or unreadable entry is a miss, never an error.
"""

from __future__ import annotations

import contextlib
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

    def put(self, digest: str, trace: Trace) -> None:
        path = self._path(digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                file.write(trace.to_json())
            Path(temporary).replace(path)
        except BaseException:
            with contextlib.suppress(OSError):
                Path(temporary).unlink()
            raise

    def _path(self, digest: str) -> Path:
        return self.folder / digest[:2] / f"{digest}.json"
