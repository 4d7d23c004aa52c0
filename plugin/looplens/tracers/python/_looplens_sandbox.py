"""Close the snippet's process to files and child processes, before the snippet runs.

The host (looplens.sandbox.python_files) sends the rules as JSON in LOOPLENS_SANDBOX: the paths the
snippet may read, write and run, and whether it may start child processes. They are enforced
by the kernel where it can (Landlock, _looplens_landlock.py): a denied open is the kernel's
EACCES, which Python shows as its own PermissionError. Where Landlock is missing (macOS, older
kernels, a container that filters the syscalls), an audit hook (_looplens_audit.py) raises the
same PermissionError for the file operations Python audits; that is a guard, not a boundary.
Landlock and the host's namespaces (looplens.sandbox.namespaces) are what enforce the rules. Child
processes are refused by the audit hook in both cases, for a message that says what to do; under
Landlock, running a program (execve) is denied by the kernel too.

Standard library only: this runs inside the snippet's interpreter. The host imports this module
too (as looplens.tracers.python._looplens_sandbox), for SANDBOX_VARIABLE and landlock_abi.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

# The host imports this module from its package; the child, as a top-level module of this folder,
# which PYTHONPATH put on sys.path. mypy sees this folder as the package looplens.tracers.python.
if TYPE_CHECKING or __package__:
    from looplens.tracers.python import _looplens_audit as audit
    from looplens.tracers.python import _looplens_landlock as landlock
else:
    import _looplens_audit as audit
    import _looplens_landlock as landlock

__all__ = ["SANDBOX_VARIABLE", "install", "landlock_abi"]

SANDBOX_VARIABLE = "LOOPLENS_SANDBOX"

landlock_abi = landlock.landlock_abi


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
    abi = landlock.landlock_abi() if rules.get("landlock", True) else 0
    enforced = "audit"
    if abi > 0:
        try:
            landlock.apply_landlock(landlock.path_rules(reads, writes, runs), abi)
            enforced = "landlock"
        except OSError:
            enforced = "audit"  # e.g. a seccomp filter refuses the syscalls: fall back
    audit.install([*reads, *runs], writes, child, guard_files=enforced == "audit")
    return enforced
