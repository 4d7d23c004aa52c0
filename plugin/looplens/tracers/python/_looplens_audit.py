"""The audit hook (PEP 578) of the sandbox: it refuses child processes unless they are allowed,
and, where Landlock is missing, the file operations outside the allowed paths, with the
PermissionError the kernel would give.

Without Landlock it is a guard, not a boundary: native code (ctypes) can step around it, and the
Guard is a Python object that the snippet can reach (gc.get_objects()) and change. The frames of
this module, where the hook raises, are taken out of the tracebacks that the snippet prints.

Standard library only: this runs inside the snippet's interpreter.
"""

from __future__ import annotations

import errno
import os
import sys
import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

#: Audit events that start a process; the message names the event.
_CHILD_EVENTS = frozenset(
    {
        "subprocess.Popen",
        "os.system",
        "os.fork",
        "os.forkpty",
        "os.posix_spawn",
        "os.exec",
        "os.spawn",
        "pty.spawn",
        "_posixsubprocess.fork_exec",
    }
)
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
#: File events the guard checks without Landlock, by what they do with their arguments: which
#: ones are paths, and whether they are read ("r") or written ("w").
_EVENTS_BY_PATHS = {
    ((0, "r"),): ("os.listdir", "os.scandir", "os.chdir"),
    ((0, "w"),): (
        "os.mkdir",
        "os.rmdir",
        "os.remove",
        "os.truncate",
        "os.chmod",
        "os.chown",
        "os.utime",
        "os.chflags",
        "os.lchflags",
        "os.mkfifo",
        "os.mknod",
        "os.setxattr",
        "os.removexattr",
        "shutil.rmtree",
        "shutil.chown",
    ),
    ((0, "w"), (1, "w")): ("os.rename", "os.link", "shutil.move"),
    # symlink(target, link) makes only the link.
    ((1, "w"),): ("os.symlink",),
    ((0, "r"), (1, "w")): (
        "shutil.copyfile",
        "shutil.copymode",
        "shutil.copystat",
        "shutil.copytree",
    ),
}
_PATH_EVENTS = {event: paths for paths, events in _EVENTS_BY_PATHS.items() for event in events}


def _within(path: str, folders: tuple[str, ...]) -> bool:
    return any(path == folder or path.startswith(folder.rstrip("/") + "/") for folder in folders)


class Guard:
    """The audit hook: refuses child processes unless allowed, and, without Landlock, the file
    operations outside the allowed paths, with the PermissionError the kernel would give."""

    def __init__(
        self, reads: Iterable[str], writes: Iterable[str], child: bool, guard_files: bool
    ) -> None:
        self._reads = tuple(os.path.realpath(path) for path in reads)
        self._writes = tuple(os.path.realpath(path) for path in writes)
        self._child = child
        self._guard_files = guard_files
        # Per thread: while one thread's check resolves a path, another's checks still run.
        self._resolving = threading.local()

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if event in _CHILD_EVENTS:
            if not self._child:
                raise PermissionError(
                    f"{event}: child processes are not allowed in this snippet "
                    '(allow="child" allows them)'
                )
            return
        if not self._guard_files or getattr(self._resolving, "busy", False):
            return
        if event == "open":
            path, mode, flags = args
            writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or bool(
                isinstance(flags, int) and flags & _WRITE_FLAGS
            )
            self._check(path, "w" if writes else "r")
            return
        for index, access in _PATH_EVENTS.get(event, ()):
            if index < len(args):
                self._check(args[index], access)

    def _check(self, path: object, access: str) -> None:
        if isinstance(path, int) or path is None:
            return  # an open descriptor, or the current folder's: already granted
        try:
            name = os.fsdecode(path)  # type: ignore[arg-type]
        except TypeError:
            return
        # realpath itself may raise audit events: they are not checked again.
        self._resolving.busy = True
        try:
            real = os.path.realpath(name)
        finally:
            self._resolving.busy = False
        allowed = self._writes if access == "w" else self._reads + self._writes
        if not _within(real, allowed):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), name)


def _guard_fork_exec() -> None:
    """multiprocessing's spawn and forkserver start processes through _posixsubprocess
    directly, which raises no audit event of its own: wrap it so that the guard sees it."""
    try:
        import _posixsubprocess
    except ImportError:  # not POSIX
        return
    fork_exec: Callable[..., int] = _posixsubprocess.fork_exec

    def audited_fork_exec(*args: Any) -> int:
        sys.audit("_posixsubprocess.fork_exec")
        return fork_exec(*args)

    _posixsubprocess.fork_exec = audited_fork_exec


def install(reads: Iterable[str], writes: Iterable[str], child: bool, *, guard_files: bool) -> None:
    """Add the audit hook (see Guard), and hide its frames from uncaught exceptions."""
    _guard_fork_exec()
    sys.addaudithook(Guard(reads, writes, child, guard_files=guard_files))
    _install_traceback_filter()


def _strip_own_frames(error: BaseException, seen: set[int]) -> None:
    """Take this module's frames (the audit hook's raise) out of `error`'s traceback and those
    it chains to, so that a refused call shows as the snippet's line, as a kernel refusal does."""
    if id(error) in seen:
        return
    seen.add(id(error))
    kept: list[TracebackType] = []
    entry = error.__traceback__
    while entry is not None:
        if entry.tb_frame.f_code.co_filename != __file__:
            kept.append(entry)
        entry = entry.tb_next
    for current, following in zip(kept, [*kept[1:], None], strict=True):
        current.tb_next = following
    error.__traceback__ = kept[0] if kept else None
    for linked in (error.__cause__, error.__context__):
        if linked is not None:
            _strip_own_frames(linked, seen)


def _install_traceback_filter() -> None:
    """Uncaught exceptions, in the main thread or another, print without this module's frames."""
    print_uncaught = sys.excepthook
    print_thread_uncaught = threading.excepthook

    def excepthook(
        kind: type[BaseException], error: BaseException, traceback: TracebackType | None
    ) -> None:
        _strip_own_frames(error, set())
        print_uncaught(kind, error, error.__traceback__)

    def thread_excepthook(arguments: threading.ExceptHookArgs) -> None:
        error = arguments.exc_value
        if error is not None:
            _strip_own_frames(error, set())
            fields = (arguments.exc_type, error, error.__traceback__, arguments.thread)
            arguments = threading.ExceptHookArgs(fields)
        print_thread_uncaught(arguments)

    sys.excepthook = excepthook
    threading.excepthook = thread_excepthook
