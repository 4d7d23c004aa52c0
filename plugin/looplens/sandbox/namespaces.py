"""How to put a command in its own PID, network and mount namespaces here: the shell words that
do it, and the probe that finds, once, which of them this machine allows.

In its own PID namespace, killing the run kills every process it started, even a detached one
that left its process group; its own network namespace has no route anywhere, and its loopback
is up only if asked. Where it may, the run also gets its own mount namespace, in which the
folders where programs put their sockets and shared memory (hidden_folders) are fresh, empty
tmpfs, with the folders the run needs mounted back in place. Inside, a run has at most
MAX_TASKS processes and threads; as root it takes a user id of its own, since the kernel does not
apply that limit to root's processes.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

#: The namespace's first process: a shell that brings loopback up (it starts down) if asked,
#: then runs the command as its child, not by exec. The first process of a PID namespace ignores
#: every signal it has no handler for, so the snippet must not be it: as the second process it
#: dies of SIGTERM as in a plain run, and it always has the same pid (2). Its arguments are the
#: task cap, the user id to run as, then the command; {cap} and {user} are the words that apply
#: them (the command runs through them by exec, so it is still process 2).
_INIT = 'tasks=$1 user=$2 && shift 2 && {loopback}{cap}{user}"$@"'
#: With a mount namespace, the first shell: it hides the folders (_MASK) before the PID
#: namespace is made, so that mount does not take its pids, then becomes (exec) the
#: command that makes it. Its arguments are the folders to keep and those to hide, then _INIT's.
_OUTER = (
    "keep=$1 masks=$2 && shift 2 && {mask}"
    "exec {unshare} --pid --fork --kill-child -- /bin/sh -c '{init}' sh \"$@\""
)
_LOOPBACK = "{ip} link set lo up && "
#: In the run's own mount namespace (unshare makes its mounts private, so nothing propagates to
#: the host): each folder of $masks (one a line) gets a fresh tmpfs, and each "fd:folder" line of
#: $keep names a folder that was under one, to mount back in place. The folders to keep are
#: opened first, on descriptors that the run does not pass on (sh knows only 3 to 9), so that
#: once hidden they are still reachable through /proc/self/fd; mount must not canonicalize that
#: path, which would name the hidden folder by its path again, and makes the mount point in the
#: new tmpfs (X-mount.mkdir, one program less to start). The shell then enters its folder
#: again through the new mount (its cwd still points under the hidden one).
_MASK = (
    "{{ set -f; IFS='\n'; "
    'for k in $keep; do eval "exec ${{k%%:*}}<\\"\\${{k#*:}}\\"" || exit 125; done; '
    'for m in $masks; do {mount} -n -t tmpfs -o {tmpfs} looplens "$m" || exit 125; done; '
    "for k in $keep; do {mount} -n --no-canonicalize -o X-mount.mkdir --bind "
    '"/proc/self/fd/${{k%%:*}}" "${{k#*:}}" && '
    'eval "exec ${{k%%:*}}<&-" || exit 125; done; unset IFS; set +f; cd -P -- "$PWD"; }} && '
)
#: Small: a snippet writes there only what the file rules let it (multiprocessing's locks).
_TMPFS_OPTIONS = "mode=1777,nosuid,nodev,size=64m,nr_inodes=4096"
#: Where programs put Unix sockets, locks and shared memory. /var/run is most often a link to
#: /run (then hiding /run hides it); a real folder is hidden as well.
_HIDDEN_FOLDERS = ("/tmp", "/run", "/var/run", "/var/tmp", "/dev/shm")
_CAP = '{prlimit} --nproc="$tasks:$tasks" -- '
#: As root, RLIMIT_NPROC binds nobody: the run goes on as a user id of its own, which no other
#: process has (so the cap counts only the run's tasks), keeping only the capabilities to read
#: and write files as root could (the file rules are Node's permission model and Landlock).
_USER = (
    '{setpriv} --reuid="$user" --regid="$user" --clear-groups '
    "--inh-caps=-all,+dac_override,+dac_read_search "
    "--ambient-caps=+dac_override,+dac_read_search -- "
)
#: In a user namespace: no capability left for the command (it is root there).
_DROP_CAPABILITIES = "{setpriv} --inh-caps=-all --bounding-set=-all -- "
#: The most tasks (processes and threads) a run may have at once, as defense in depth against a
#: fork bomb (the PID namespace ends them all with the run; this keeps their number small while
#: it lasts). Node needs 7 and one more per worker thread, asyncio's default executor 5 to 32.
MAX_TASKS = 128
#: User ids for runs as root: far above any real account's, one per run.
RUN_USERS_FROM = 1_000_000_000


@dataclass(frozen=True, slots=True)
class NamespacePrefix:
    """The words that put a command in its namespaces (empty where that is not possible), whether
    they cap its tasks, and whether they hide the host's socket folders (_HIDDEN_FOLDERS); the
    command follows the folders to keep and to hide (if it hides them), the cap and the user id
    (see _OUTER and _INIT)."""

    words: tuple[str, ...]
    caps_tasks: bool
    hides_folders: bool


_NO_NAMESPACES = NamespacePrefix((), caps_tasks=False, hides_folders=False)


def hidden_folders() -> tuple[str, ...]:
    """The folders that get a fresh tmpfs in a run's mount namespace: those of _HIDDEN_FOLDERS
    that are real folders here (a link, such as /var/run to /run, is hidden with its target)."""
    return tuple(
        folder
        for folder in _HIDDEN_FOLDERS
        if Path(folder).is_dir() and not Path(folder).is_symlink()
    )


@functools.cache
def namespace_prefix(loopback: bool) -> NamespacePrefix:
    """How to put a command in its own PID, network and mount namespaces here (checked once, by
    running it): as root, namespaces alone, with a user id of the run's own (the task cap needs
    it); elsewhere in a user namespace, where the cap binds the user already. Where a mount
    namespace is refused, the same without it."""
    unshare, ip = shutil.which("unshare"), shutil.which("ip")
    prlimit, setpriv = shutil.which("prlimit"), shutil.which("setpriv")
    mount = shutil.which("mount")
    if unshare is None or not sys.platform.startswith("linux") or (loopback and ip is None):
        return _NO_NAMESPACES
    lo = _LOOPBACK.format(ip=ip) if loopback else ""
    cap = _CAP.format(prlimit=prlimit) if prlimit else ""
    as_run_user = _USER.format(setpriv=setpriv) if setpriv and prlimit else ""
    # In a user namespace the run is root there, with every capability in it: it could unmount
    # the tmpfs and reach what it hides. It gives them all up before the command starts.
    uncapable = _DROP_CAPABILITIES.format(setpriv=setpriv) if setpriv else ""
    mask = _MASK.format(mount=mount, tmpfs=_TMPFS_OPTIONS) if mount else ""
    attempts = [
        ((), as_run_user, mask),
        ((), "", mask),
        (("--user", "--map-root-user"), uncapable, mask if uncapable else ""),
        ((), as_run_user, ""),
        ((), "", ""),
        (("--user", "--map-root-user"), "", ""),
    ]
    for user_namespace, user, hide in attempts:
        if user_namespace == () and os.geteuid() != 0 and user:
            continue  # only root can take another user id
        init = _INIT.format(loopback=lo, cap=cap, user=user)
        words = _prefix_words(unshare, user_namespace, init, hide)
        if _runs_here(words, hides=bool(hide)):
            # Root's tasks are not counted: only a run under another user id is capped.
            capped = bool(cap) and (os.geteuid() != 0 or (bool(user) and user == as_run_user))
            return NamespacePrefix(words, caps_tasks=capped, hides_folders=bool(hide))
    return _NO_NAMESPACES


def _prefix_words(
    unshare: str, user_namespace: tuple[str, ...], init: str, hide: str
) -> tuple[str, ...]:
    """The words that start `init` (see _INIT) in new namespaces, the host's socket folders
    hidden first if `hide` holds the shell words that hide them (see _OUTER)."""
    if hide:
        outer = _OUTER.format(mask=hide, unshare=unshare, init=init)
        words = (unshare, *user_namespace, "--mount", "--net", "--", "/bin/sh", "-c", outer)
    else:
        namespaces = ("--pid", "--fork", "--kill-child", "--net", "--", "/bin/sh", "-c", init)
        words = (unshare, *user_namespace, *namespaces)
    return (*words, "sh")


def _runs_here(words: tuple[str, ...], *, hides: bool) -> bool:
    """Whether a command put in its namespaces by `words` runs here, as a run would."""
    # The probe keeps a folder under /tmp, as a snippet's is: the whole mask must work.
    with (
        contextlib.suppress(OSError, subprocess.SubprocessError),
        tempfile.TemporaryDirectory(prefix="looplens-probe-") as kept,
    ):
        folder_arguments = (f"3:{kept}", "\n".join(hidden_folders())) if hides else ()
        probe = subprocess.run(
            [*words, *folder_arguments, str(MAX_TASKS), str(RUN_USERS_FROM), "true"],
            cwd=kept,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=5,
            check=False,
        )
        return probe.returncode == 0
    return False


def network_blocked() -> bool:
    """Whether snippets here run without network (for docs and tests)."""
    return bool(namespace_prefix(False).words)


def tasks_capped() -> bool:
    """Whether a run here can have at most MAX_TASKS processes and threads (for docs, tests)."""
    return namespace_prefix(False).caps_tasks


def hides_host_folders() -> bool:
    """Whether a run here sees fresh, empty /tmp, /run, /var/tmp and /dev/shm (so none of the
    host's Unix sockets or shared memory there), its own folder mounted back (for docs, tests)."""
    return namespace_prefix(False).hides_folders
