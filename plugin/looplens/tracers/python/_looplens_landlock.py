"""Landlock (Linux 5.13+, unprivileged): the kernel restricts this process to the paths it may
read, write and run; a denied open is the kernel's EACCES, which Python shows as its own
PermissionError. The constants and structures are those of linux/landlock.h.

Standard library only: this runs inside the snippet's interpreter (and the host asks it for the
kernel's ABI version).
"""

from __future__ import annotations

import ctypes
import os
import stat
import sys
from collections.abc import Iterable

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


def path_rules(
    reads: Iterable[str], writes: Iterable[str], runs: Iterable[str]
) -> list[tuple[str, int]]:
    """The (path, rights) rules of apply_landlock for paths read, written and run."""
    return [
        *((path, _READ) for path in reads),
        *((path, _READ | _WRITE) for path in writes),
        *((path, _READ | EXECUTE) for path in runs),
    ]
