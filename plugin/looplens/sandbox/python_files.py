"""What a Python snippet may read, write and run: the same `allow=` words as Node's permissions.

By default a snippet reads its own folder, the interpreter's installation (standard library,
site-packages, the shared libraries they load) and the tracer's files; it writes nowhere (as
in Node: a page's output must not depend on files a run leaves, and a snippet that writes says
so in its fence), and starts no process. `read` opens every file, `write` its own folder (a
fresh temporary one when a page's snippet runs), `child` child processes, with what a program
needs to run (the system's program and library folders, /dev/shm for multiprocessing's locks).

The rules travel to the child as JSON (tracers/python/_looplens_sandbox.py applies them): with
Landlock where the kernel has it, else with an audit hook. `file_enforcement()` says which.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from looplens import PACKAGE_FOLDER
from looplens.runtimes.python import running_python
from looplens.runtimes.runtime import Runtime
from looplens.tracers.python import _looplens_sandbox as child_sandbox

TRACER_DIR = PACKAGE_FOLDER / "tracers" / "python"

#: Where the dynamic loader finds the shared libraries that extension modules link to.
SYSTEM_LIBRARIES = ("/lib", "/lib32", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib")
#: Devices any program may use: reading nothing or randomness, writing into nothing.
READABLE_DEVICES = ("/dev/urandom", "/dev/random", "/dev/zero")
WRITABLE_DEVICES = ("/dev/null",)
#: The process's own threads, where each reads its run-queue delay (/proc/thread-self/schedstat,
#: see tracers/python/_looplens_schedstat.py): what a clock margin needs to tell a race from a
#: stall.
OWN_THREADS = "/proc/self/task"
#: What `child` adds: programs, the loader's cache, and POSIX semaphores (multiprocessing), in
#: the run's own /dev/shm where it has a mount namespace (see namespaces.hides_host_folders).
PROGRAM_FOLDERS = ("/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin")
CHILD_READS = ("/etc/ld.so.cache",)
CHILD_WRITES = ("/dev/shm",)


@dataclass(frozen=True, slots=True)
class FileRules:
    read: tuple[str, ...]
    write: tuple[str, ...]
    #: Readable and runnable (execve).
    run: tuple[str, ...]
    child: bool
    #: False: the audit hook alone, even where the kernel has Landlock (to test the fallback).
    landlock: bool = True

    def to_json(self) -> str:
        rules = {"read": self.read, "write": self.write, "run": self.run, "child": self.child}
        return json.dumps({**rules, "landlock": self.landlock})


def file_rules(folder: Path, allow: Iterable[str], runtime: Runtime | None = None) -> FileRules:
    """The rules for a snippet that runs from `folder` on `runtime` (by default the Python that
    runs looplens) with the fence's `allow`; it reads the installation of that interpreter
    (standard library, site-packages, libpython's folder), as the runtime's probe found it."""
    runtime = runtime or running_python()
    allowed = set(allow)
    if "read" in allowed:
        reads: tuple[str, ...] = ("/",)
    else:
        reads = (
            str(folder),
            str(TRACER_DIR),
            *runtime.folders,
            *SYSTEM_LIBRARIES,
            *READABLE_DEVICES,
            OWN_THREADS,
        )
    writes = [*WRITABLE_DEVICES]
    if "write" in allowed:
        writes.append(str(folder))
    runs: list[str] = []
    if "child" in allowed:
        reads = (*reads, *CHILD_READS)
        writes.extend(CHILD_WRITES)
        # The interpreter itself (multiprocessing starts it again) and every program.
        runs.extend([str(runtime.executable.parent), *PROGRAM_FOLDERS, *SYSTEM_LIBRARIES])
        runs.extend(runtime.folders)
    return FileRules(tuple(reads), tuple(writes), tuple(runs), "child" in allowed)


@functools.cache
def file_enforcement() -> str:
    """How Python snippets' file rules are enforced here: "landlock" (the kernel) or "audit"
    (an audit hook, where the kernel has no Landlock)."""
    return "landlock" if child_sandbox.landlock_abi() > 0 else "audit"
