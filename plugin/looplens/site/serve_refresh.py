"""`mkdocs serve` draws a page before every runtime has run its snippets: this says when the rest
are done, by writing into a folder that the server watches, so that it builds again (from the
cache now) and reloads the page in the browser."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

#: The folder under the cache that `mkdocs serve` watches for it.
REFRESH_FOLDER = "serve-refresh"


def refresh_folder(cache_folder: Path) -> Path:
    return cache_folder / REFRESH_FOLDER


def refresh_when_done(
    folder: Path, pending: list[Future[Any]], report: Callable[[str], None]
) -> None:
    """Once every run of `pending` has ended (however it ended), write the folder's marker."""
    if not pending:
        return
    left = [len(pending)]
    lock = threading.Lock()

    def one_done(_: Future[Any]) -> None:
        with lock:
            left[0] -= 1
            if left[0] != 0:
                return
        report(f"{len(pending)} runs on the other runtimes done: drawing the pages again")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "done").write_text(f"{time.time()}\n", encoding="utf-8")

    for future in pending:
        future.add_done_callback(one_done)
