"""Close the snippet's process to files and child processes, before the snippet runs.

The host (looplens.sandbox.python_files) sends the rules as JSON in LOOPLENS_SANDBOX: the paths the
snippet may read, write and run, and whether it may start child processes. They are enforced
by the kernel where it can (Landlock, Linux 5.13+, unprivileged): a denied open is the
kernel's EACCES, which Python shows as its own PermissionError. Where Landlock is missing
(macOS, older kernels, a container that filters the syscalls), an audit hook (PEP 578) raises
the same PermissionError for the file operations Python audits; that is a guard, not a
boundary: native code (ctypes) can step around it, and the Guard is a Python object that the
snippet can reach (gc.get_objects()) and change. Landlock and the host's namespaces
(looplens.sandbox.process) are what enforce the rules. Child processes are refused by an audit hook
in both cases, for a message that says what to do; under Landlock, running a program
(execve) is denied by the kernel too.

Standard library only: this runs inside the snippet's interpreter.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import stat
import sys
import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

SANDBOX_VARIABLE = "LOOPLENS_SANDBOX"

# --- Landlock (linux/landlock.h) ----------------------------------------------------------------

_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446  # the same on every arch
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

EXECUTE = 1 << 0
WRITE_FILE = 1 << 1
READ_FILE = 1 << 2
READ_DIR = 1 << 3
REMOVE_DIR = 1 << 4
REMOVE_FILE = 1 << 5
MAKE_CHAR = 1 << 6
MAKE_DIR = 1 << 7
MAKE_REG = 1 << 8
MAKE_SOCK = 1 << 9
MAKE_FIFO = 1 << 10
MAKE_BLOCK = 1 << 11
MAKE_SYM = 1 << 12
REFER = 1 << 13  # ABI 2
TRUNCATE = 1 << 14  # ABI 3

#: The rights a rule on a file (not a folder) may carry.
_FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE
_READ = READ_FILE | READ_DIR
_WRITE = (
    WRITE_FILE
    | REMOVE_DIR
    | REMOVE_FILE
    | MAKE_DIR
    | MAKE_REG
    | MAKE_SOCK
    | MAKE_FIFO
    | MAKE_SYM
    | REFER
    | TRUNCATE
)
#: What each ABI version can restrict. Device ioctls (ABI 5) stay unhandled: isatty() and
#: friends on the inherited pipes and /dev/null must keep working.
_HANDLED_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1}
_HANDLED_LATEST = (1 << 15) - 1


#: ABI 6: a scope keeps the process from connecting to abstract Unix sockets that a process
#: outside its Landlock domain made (those the snippet's own processes make stay reachable).
#: They live in the network namespace, which already hides the host's; this closes them where
#: the run has no namespace of its own.
_SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0
_SCOPES_FROM_ABI = 6


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),  # ABI 4; left 0: network rules are not used
        ("scoped", ctypes.c_uint64),  # ABI 6
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 where there is none."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        version = int(libc.syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), 1))
    except (OSError, AttributeError):
        return 0
    return max(version, 0)


def apply_landlock(rules: Iterable[tuple[str, int]], abi: int) -> None:
    """Restrict this process (and all it starts) to `rules`: (path, rights) pairs; a path that
    does not exist is left out. Raises OSError if the kernel refuses."""
    libc = ctypes.CDLL(None, use_errno=True)
    handled = _HANDLED_BY_ABI.get(abi, _HANDLED_LATEST)
    scoped = _SCOPE_ABSTRACT_UNIX_SOCKET if abi >= _SCOPES_FROM_ABI else 0
    attr = _RulesetAttr(handled, 0, scoped)
    # An older kernel knows only the first field, and refuses a larger struct (E2BIG).
    size = ctypes.sizeof(attr) if scoped else ctypes.sizeof(ctypes.c_uint64)
    ruleset = int(libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0))
    if ruleset < 0:
        raise _errno_error("landlock_create_ruleset")
    try:
        for path, rights in rules:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                is_folder = stat.S_ISDIR(os.fstat(fd).st_mode)
                allowed = (rights if is_folder else rights & _FILE_RIGHTS) & handled
                beneath = _PathBeneathAttr(allowed, fd)
                added = libc.syscall(
                    _SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(beneath), 0
                )
                if added != 0:
                    raise _errno_error(f"landlock_add_rule({path})")
            finally:
                os.close(fd)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise _errno_error("prctl(PR_SET_NO_NEW_PRIVS)")
        if libc.syscall(_SYS_RESTRICT_SELF, ruleset, 0) != 0:
            raise _errno_error("landlock_restrict_self")
    finally:
        os.close(ruleset)


def _errno_error(call: str) -> OSError:
    code = ctypes.get_errno()
    return OSError(code, f"{call}: {os.strerror(code)}")


# --- the audit hook ------------------------------------------------------------------------------

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
#: File events the guard checks without Landlock: event → which arguments are paths, and
#: whether they are read ("r") or written ("w").
_PATH_EVENTS = {
    "os.listdir": ((0, "r"),),
    "os.scandir": ((0, "r"),),
    "os.chdir": ((0, "r"),),
    "os.mkdir": ((0, "w"),),
    "os.rmdir": ((0, "w"),),
    "os.remove": ((0, "w"),),
    "os.rename": ((0, "w"), (1, "w")),
    "os.link": ((0, "w"), (1, "w")),
    "os.symlink": ((1, "w"),),
    "os.truncate": ((0, "w"),),
    "os.chmod": ((0, "w"),),
    "os.chown": ((0, "w"),),
    "os.utime": ((0, "w"),),
    "os.chflags": ((0, "w"),),
    "os.lchflags": ((0, "w"),),
    "os.mkfifo": ((0, "w"),),
    "os.mknod": ((0, "w"),),
    "os.setxattr": ((0, "w"),),
    "os.removexattr": ((0, "w"),),
    "shutil.copyfile": ((0, "r"), (1, "w")),
    "shutil.copymode": ((0, "r"), (1, "w")),
    "shutil.copystat": ((0, "r"), (1, "w")),
    "shutil.copytree": ((0, "r"), (1, "w")),
    "shutil.move": ((0, "w"), (1, "w")),
    "shutil.rmtree": ((0, "w"),),
    "shutil.chown": ((0, "w"),),
}


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


# --- entry point ---------------------------------------------------------------------------------


def install() -> str:
    """Apply the rules the host sent, if any; what enforces the file rules: "landlock",
    "audit" or "" (no rules sent)."""
    text = os.environ.pop(SANDBOX_VARIABLE, None)
    if text is None:
        return ""
    rules = json.loads(text)
    reads: list[str] = rules["read"]
    writes: list[str] = rules["write"]
    runs: list[str] = rules["run"]
    child = bool(rules["child"])
    # "landlock": false asks for the audit hook alone (tests check the fallback with it).
    abi = landlock_abi() if rules.get("landlock", True) else 0
    enforced = "audit"
    if abi > 0:
        landlock = [
            *((path, _READ) for path in reads),
            *((path, _READ | _WRITE) for path in writes),
            *((path, _READ | EXECUTE) for path in runs),
        ]
        try:
            apply_landlock(landlock, abi)
            enforced = "landlock"
        except OSError:
            enforced = "audit"  # e.g. a seccomp filter refuses the syscalls: fall back
    _guard_fork_exec()
    sys.addaudithook(Guard([*reads, *runs], writes, child, guard_files=enforced == "audit"))
    install_traceback_filter()
    return enforced


# --- tracebacks ----------------------------------------------------------------------------------


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


def install_traceback_filter() -> None:
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
