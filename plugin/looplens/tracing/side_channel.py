"""What both tracers do with a finished run: read the side channel, hide the run's folder."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from looplens.trace import Trace


def parse_records(data: bytes) -> list[dict[str, Any]]:
    """One JSON record per line, as the in-runtime tracers write them."""
    records = []
    for line in data.splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            # Only a record cut short by a dying process can be malformed: ignore it.
            continue
    return records


def show_folder_as(trace: Trace, folders: Iterable[Path], display: str) -> Trace:
    """The trace with every spelling of the run's folder replaced by `display` in printed text.

    Both the folder as given and as resolved: runtimes name files by their real path, while a
    traceback or the snippet's own text may go through a symbolic link.
    """
    names = {str(folder) for folder in folders} | {os.path.realpath(f) for f in folders}
    longest_first = sorted(names, key=len, reverse=True)

    def shown(text: str) -> str:
        for name in longest_first:
            text = text.replace(name, display)
        return text

    return replace(trace, lines=tuple(replace(line, text=shown(line.text)) for line in trace.lines))
