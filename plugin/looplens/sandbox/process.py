"""Run one snippet's process under limits, in a sandbox, and end its whole process tree.

Both tracers start their child through `run_sandboxed`, so both languages get the same rules:

- Wall time, printed output (stdout + stderr) and memory are limited; a breach kills the run and
  raises LimitError, whose message names the limit, its value and how to raise it.
- On Linux the child runs under `unshare --pid --fork --kill-child --net`: in its own PID
  namespace, so killing it also kills every process it started, even a detached one that left
  its process group (the namespace's first process dying takes all the others with it); and in
  its own network namespace, which has no route anywhere (outbound connections fail at once with
  ENETUNREACH) and whose loopback is down unless the snippet asks for `net`. Where `unshare`
  cannot do this (not Linux, no privilege, no user namespaces), the child still gets its own
  session and process group, which a breach kills (SIGTERM, then SIGKILL), but the network is
  not blocked and a grandchild that calls setsid() survives the run.
- Where it may, the child also gets its own mount namespace, in which the folders where programs
  put their sockets and shared memory (/tmp, /run, /var/tmp, /dev/shm) are fresh, empty tmpfs:
  a pathname Unix socket is reached through the file system, not the network, so the network
  namespace alone lets a snippet connect to the host's services (a root build could reach
  /run/docker.sock). The snippet's own folder, and the runtime's, are mounted back in place.
  Without it (see hides_host_folders), sockets and shared memory under those folders stay
  reachable for whatever the file rules let the run open.
- Standard input is closed, and only a few of the build's environment variables pass.
- Resource limits go through `prlimit` (util-linux) rather than preexec_fn, which is not safe in
  a process with threads (traces run on a thread pool); resource.setrlimit is the fallback.
- Inside the namespaces, a run has at most MAX_TASKS processes and threads (RLIMIT_NPROC). The
  kernel does not apply that limit to root's processes, so as root the run takes a user id of its
  own (setpriv), keeping only the capabilities that read and write files as root could.

Node additionally runs under its permission model (see node_permissions.py), Python
under the same rules from Landlock or an audit hook (see python_sandbox).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from looplens import PACKAGE_FOLDER
from looplens.limits import MB, LimitError, Limits

Stream = Literal["stdout", "stderr"]
#: (bytes read so far, microseconds) for each chunk read from a stream.
Arrivals = list[tuple[int, int]]

#: Address space the runtime needs for itself, on top of the snippet's memory limit: Node 24
#: reserves about 1.2 GB of address space before running a line (it does not start under less),
#: a Python interpreter with a few threads far less.
RUNTIME_ADDRESS_SPACE = {"javascript": 1536 * MB, "python": 256 * MB}
#: Each Node worker reserves about 500 MB more (its own code range and heap reservations).
WORKER_ADDRESS_SPACE = 2048 * MB
#: Largest file the child may write (the trace side channel is one of its files).
MAX_FILE_BYTES = 256 * MB
MAX_OPEN_FILES = 1024
#: How long a process tree told to stop (SIGTERM) has before it is killed (SIGKILL).
TERM_GRACE_S = 0.5
KILL_WAIT_S = 5.0
READ_SIZE = 1 << 16
#: Without a process descriptor to wait on, how often to check whether the child has exited.
EXIT_POLL_S = 0.05


# --- the command that puts the child in its sandbox -------------------------------------------

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
_RUN_USERS_FROM = 1_000_000_000
_run_numbers = itertools.count()


@dataclass(frozen=True, slots=True)
class NamespacePrefix:
    """The words that put a command in its namespaces (empty where that is not possible), whether
    they cap its tasks, and whether they hide the host's socket folders (_HIDDEN_FOLDERS); the
    command follows the folders to keep and to hide (if it hides them), the cap and the user id
    (see _OUTER and _INIT)."""

    words: tuple[str, ...]
    caps_tasks: bool
    hides_folders: bool


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
        return NamespacePrefix((), caps_tasks=False, hides_folders=False)
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
    folders = "\n".join(hidden_folders())
    for user_namespace, user, hide in attempts:
        if user_namespace == () and os.geteuid() != 0 and user:
            continue  # only root can take another user id
        init = _INIT.format(loopback=lo, cap=cap, user=user)
        if hide:
            outer = _OUTER.format(mask=hide, unshare=unshare, init=init)
            words = (unshare, *user_namespace, "--mount", "--net", "--", "/bin/sh", "-c", outer)
        else:
            namespaces = ("--pid", "--fork", "--kill-child", "--net", "--", "/bin/sh", "-c", init)
            words = (unshare, *user_namespace, *namespaces)
        words = (*words, "sh")
        # The probe keeps a folder under /tmp, as a snippet's is: the whole mask must work.
        with (
            contextlib.suppress(OSError, subprocess.SubprocessError),
            tempfile.TemporaryDirectory(prefix="looplens-probe-") as kept,
        ):
            folder_arguments = (f"3:{kept}", folders) if hide else ()
            probe = subprocess.run(
                [*words, *folder_arguments, str(MAX_TASKS), str(_RUN_USERS_FROM), "true"],
                cwd=kept,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=5,
                check=False,
            )
            if probe.returncode == 0:
                # Root's tasks are not counted: only a run under another user id is capped.
                capped = bool(cap) and (os.geteuid() != 0 or (bool(user) and user == as_run_user))
                return NamespacePrefix(words, caps_tasks=capped, hides_folders=bool(hide))
    return NamespacePrefix((), caps_tasks=False, hides_folders=False)


def _run_user() -> int:
    return _RUN_USERS_FROM + (os.getpid() * 1000 + next(_run_numbers)) % _RUN_USERS_FROM


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


#: What a run must still reach in the folders that its mount namespace hides: the runtime and
#: this package (a virtual environment under /tmp, say), besides the snippet's own folder.
def _kept_folders(cwd: str, command: list[str], passed: tuple[int, ...]) -> tuple[str, ...]:
    """The "fd:folder" lines of _MASK's $keep: each folder with a descriptor to open it on."""
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


# --- running it --------------------------------------------------------------------------------


@dataclass(slots=True)
class Captured:
    """One of the child's output streams: its bytes, and when each chunk of them was read."""

    chunks: list[bytes] = field(default_factory=list)
    size: int = 0
    arrivals: Arrivals = field(default_factory=list)

    def add(self, data: bytes) -> None:
        self.chunks.append(data)
        self.size += len(data)
        self.arrivals.append((self.size, time.monotonic_ns() // 1000))

    def data(self) -> bytes:
        return b"".join(self.chunks)


@dataclass(frozen=True, slots=True)
class Finished:
    stdout: Captured
    stderr: Captured
    #: As a shell reports it: death by signal N is 128 + N.
    exit_code: int


def run_sandboxed(
    command: list[str],
    *,
    cwd: str | os.PathLike[str],
    env: Mapping[str, str],
    pass_fds: tuple[int, ...],
    limits: Limits,
    language: str,
    allow: Iterable[str] = (),
    name: str,
) -> Finished:
    """Run `command` sandboxed; its output once it exits. Raises LimitError (time, output),
    after ending the whole process tree."""
    full, preexec = sandbox_command(
        command, limits, language, tuple(allow), os.fspath(cwd), pass_fds
    )
    process = subprocess.Popen(
        full,
        cwd=cwd,
        env=dict(env),
        # Closed input: a read from stdin ends at once (EOF) instead of waiting for the time limit.
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        pass_fds=pass_fds,
        # Its own session and process group: what it starts is killed with it.
        start_new_session=True,
        preexec_fn=preexec,  # only without prlimit: see sandbox_command
    )
    deadline = time.monotonic() + limits.timeout_s
    try:
        outcome = _read_until_exit(process, deadline, limits.output_bytes)
        if isinstance(outcome, tuple) and _wait(process, deadline):
            stdout, stderr = outcome
            # Anything the snippet left running in its group goes too (the PID namespace, where
            # there is one, has already ended it).
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            code = process.returncode
            return Finished(stdout, stderr, code if code >= 0 else 128 - code)
        end_tree(process)
    finally:
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
    if outcome == "output":
        raise LimitError.of("output_bytes", limits, name + " printed more than {limit}")
    raise LimitError.of("timeout_s", limits, name + " did not finish within {limit}")


def end_tree(process: subprocess.Popen[bytes]) -> None:
    """End the child's process group: SIGTERM, then SIGKILL for what is left (a snippet can trap
    SIGTERM). With the PID namespace, its first process dying kills every process inside."""
    for sig, wait in ((signal.SIGTERM, TERM_GRACE_S), (signal.SIGKILL, KILL_WAIT_S)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        if _wait(process, time.monotonic() + wait):
            # The leader is gone; anything left in its group (no namespace) is killed too.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            return


def _read_until_exit(
    process: subprocess.Popen[bytes], deadline: float, max_output: int
) -> tuple[Captured, Captured] | Literal["time", "output"]:
    """stdout and stderr, read until both close or the child exits; or which limit stopped it.

    A process that the snippet started may keep the pipes open after the child exits (a detached
    child with inherited stdio): the child's exit ends the reading, after what is in the pipes.
    """
    assert process.stdout is not None and process.stderr is not None
    stdout, stderr = Captured(), Captured()
    streams = {process.stdout.fileno(): stdout, process.stderr.fileno(): stderr}
    exit_fd = _exit_watch(process)
    exited = False
    with selectors.DefaultSelector() as selector:
        for pipe_fd in streams:
            selector.register(pipe_fd, selectors.EVENT_READ)
        if exit_fd is not None:
            selector.register(exit_fd, selectors.EVENT_READ)
        try:
            while len(selector.get_map()) > (0 if exit_fd is None else 1):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return "time"
                if exited:
                    wait = 0.0
                elif exit_fd is None:
                    wait = min(remaining, EXIT_POLL_S)
                else:
                    wait = remaining
                ready = [key.fd for key, _ in selector.select(wait)]
                for ready_fd in ready:
                    if ready_fd == exit_fd:
                        exited = True
                        selector.unregister(exit_fd)
                        os.close(exit_fd)
                        exit_fd = None
                        continue
                    data = os.read(ready_fd, READ_SIZE)
                    if data:
                        streams[ready_fd].add(data)
                        if stdout.size + stderr.size > max_output:
                            return "output"
                    else:
                        selector.unregister(ready_fd)
                if exited and not any(ready_fd in streams for ready_fd in ready):
                    break  # The child is gone and nothing more is waiting in the pipes.
                if exit_fd is None and not exited and process.poll() is not None:
                    exited = True
        finally:
            if exit_fd is not None:
                os.close(exit_fd)
    return stdout, stderr


def _exit_watch(process: subprocess.Popen[bytes]) -> int | None:
    """A descriptor that becomes readable when the child exits (Linux), or None: then poll."""
    pidfd_open = getattr(os, "pidfd_open", None)
    if pidfd_open is None:
        return None
    try:
        return int(pidfd_open(process.pid))
    except OSError:
        return None


def _wait(process: subprocess.Popen[bytes], deadline: float) -> bool:
    try:
        process.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return False
    return True
