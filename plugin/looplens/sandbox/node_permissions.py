"""What a Node snippet may read, write and start: Node's permission model, from allow=."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from looplens import PACKAGE_FOLDER

#: The tracer of every Node run: the one folder outside the snippet's that a run must read.
TRACER_FOLDER = PACKAGE_FOLDER / "tracers" / "node"
#: The tracer's file that Node is told to --require; it loads the others from its folder.
PRELOAD = TRACER_FOLDER / "preload.cjs"
QUIET_SECURITY_WARNING = "--disable-warning=SecurityWarning"
#: The one file of the system that the tracer reads: each thread's run-queue delay (how long the
#: machine kept it waiting), which tells a stalled run from a race (tracers/node/timing.cjs).
RUN_QUEUE_DELAY_FILE = "/proc/thread-self/schedstat"


def node_permission_flags(
    folder: Path,
    allow: Iterable[str],
    enable: Iterable[str] = ("--permission",),
    also_read: Iterable[str] = (),
) -> list[str]:
    """Node's permission model: read the snippet's folder and the tracer's, write nowhere, no
    child processes, addons, WASI or workers unless the fence allows them ("write" opens the
    snippet's own temporary folder, "read" every file). Node prints a
    SecurityWarning for every --allow-* flag that can escape the model; that is about the
    sandbox, not the snippet, so it is silenced (only that warning type). `enable` is the
    flag that turns the model on and `also_read` what else the release must read to start
    (both depend on the Node release, see runtimes.node)."""
    allowed = set(allow)
    reads = (
        ["*"]
        if "read" in allowed
        else [str(folder), str(TRACER_FOLDER), RUN_QUEUE_DELAY_FILE, *also_read]
    )
    flags = [*enable, *(f"--allow-fs-read={path}" for path in reads)]
    if "write" in allowed:
        flags.append(f"--allow-fs-write={folder}")
    for permission, flag in (
        ("worker", "--allow-worker"),
        ("child", "--allow-child-process"),
        ("addons", "--allow-addons"),
    ):
        if permission in allowed:
            flags.append(flag)
    return [*flags, QUIET_SECURITY_WARNING]
