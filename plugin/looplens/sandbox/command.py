"""The full command line for one run: its namespaces (see namespaces.py), the folders its mount
namespace must keep, the user id it runs as, and its resource limits.

Resource limits go through `prlimit` (util-linux) rather than preexec_fn, which is not safe in
a process with threads (traces run on a thread pool); resource.setrlimit is the fallback.
"""

from __future__ import annotations

import itertools
import os
import resource
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from looplens import PACKAGE_FOLDER
from looplens.limits import MB, Limits
from looplens.sandbox.namespaces import MAX_TASKS, RUN_USERS_FROM, hidden_folders, namespace_prefix

#: Address space the runtime needs for itself, on top of the snippet's memory limit: Node 24
#: reserves about 1.2 GB of address space before running a line (it does not start under less),
#: a Python interpreter with a few threads far less.
RUNTIME_ADDRESS_SPACE = {"javascript": 1536 * MB, "python": 256 * MB}
#: Each Node worker reserves about 500 MB more (its own code range and heap reservations).
WORKER_ADDRESS_SPACE = 2048 * MB
#: Largest file the child may write (the trace side channel is one of its files).
MAX_FILE_BYTES = 256 * MB
MAX_OPEN_FILES = 1024
_run_numbers = itertools.count()


def sandbox_command(
    command: list[str],
    limits: Limits,
    language: str,
    allow: tuple[str, ...],
    cwd: str,
    pass_fds: tuple[int, ...] = (),
) -> tuple[list[str], Callable[[], None] | None]:
    """The command to start instead of `command` (which runs from `cwd` and inherits
    `pass_fds`), and a preexec function if prlimit is missing."""
    prefix = namespace_prefix("net" in allow)
    arguments: tuple[str, ...] = ()
    if prefix.words:
        arguments = (str(MAX_TASKS), str(_run_user()))
        if prefix.hides_folders:
            kept = "\n".join(_kept_folders(cwd, command, pass_fds))
            arguments = (kept, "\n".join(hidden_folders()), *arguments)
    words = [*prefix.words, *arguments, *command]
    prlimit = shutil.which("prlimit")
    if prlimit is not None:
        flags = [f"--{name}={value}" for name, value in _rlimits(limits, language, allow).items()]
        return [prlimit, *flags, "--", *words], None
    values = _rlimits(limits, language, allow)

    def set_limits() -> None:  # pragma: no cover - only where util-linux is missing
        for name, key in (
            ("as", resource.RLIMIT_AS),
            ("fsize", resource.RLIMIT_FSIZE),
            ("nofile", resource.RLIMIT_NOFILE),
            ("core", resource.RLIMIT_CORE),
        ):
            resource.setrlimit(key, (values[name], values[name]))

    return words, set_limits


def _run_user() -> int:
    return RUN_USERS_FROM + (os.getpid() * 1000 + next(_run_numbers)) % RUN_USERS_FROM


#: What a run must still reach in the folders that its mount namespace hides: the runtime and
#: this package (a virtual environment under /tmp, say), besides the snippet's own folder.
def _kept_folders(cwd: str, command: list[str], passed: tuple[int, ...]) -> tuple[str, ...]:
    """The "fd:folder" lines of the mask's $keep: each folder with a descriptor to open it on."""
    hidden = hidden_folders()
    candidates = [
        cwd,
        str(Path(command[0]).resolve().parent) if command else "",
        str(PACKAGE_FOLDER.resolve()),
        sys.prefix,
        sys.base_prefix,
    ]
    kept: list[str] = []
    for candidate in candidates:
        real = os.path.realpath(candidate) if candidate else ""
        under_hidden = any(real == h or real.startswith(h + "/") for h in hidden)
        # A folder already kept holds this one; one name a line, so a newline cannot be kept.
        covered = any(real == k or real.startswith(k + "/") for k in kept)
        if under_hidden and not covered and "\n" not in real:
            kept.append(real)
    free = [fd for fd in range(3, 10) if fd not in passed]
    return tuple(f"{fd}:{folder}" for fd, folder in zip(free, kept, strict=False))


def _address_space(limits: Limits, language: str, allow: tuple[str, ...]) -> int:
    workers = WORKER_ADDRESS_SPACE if "worker" in allow and language == "javascript" else 0
    return limits.memory_bytes + RUNTIME_ADDRESS_SPACE[language] + workers


def _rlimits(limits: Limits, language: str, allow: tuple[str, ...]) -> dict[str, int]:
    return {
        "as": _address_space(limits, language, allow),
        "fsize": MAX_FILE_BYTES,
        "nofile": MAX_OPEN_FILES,
        "core": 0,
    }
