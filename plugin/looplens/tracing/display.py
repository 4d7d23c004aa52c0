"""The folder a snippet ran in, as a page shows it: one fixed name instead of a temporary path.

Pages must not depend on where a build put its temporary folders.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from looplens.trace import Trace

#: What a page's snippet's folder is shown as in its printed text.
DISPLAY_FOLDER = "/looplens"


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
