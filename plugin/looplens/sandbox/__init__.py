"""The sandbox stage: run one snippet's process under limits, in a sandbox, and end its whole
process tree.

Both tracers start their child through `process.run_sandboxed`, so both languages get the same
rules:

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
  Without it (see namespaces.hides_host_folders), sockets and shared memory under those folders
  stay reachable for whatever the file rules let the run open.
- Standard input is closed, and only a few of the build's environment variables pass.
- Resource limits go through `prlimit` (util-linux) rather than preexec_fn, which is not safe in
  a process with threads (traces run on a thread pool); resource.setrlimit is the fallback.
- Inside the namespaces, a run has at most MAX_TASKS processes and threads (RLIMIT_NPROC). The
  kernel does not apply that limit to root's processes, so as root the run takes a user id of its
  own (setpriv), keeping only the capabilities that read and write files as root could.

Node additionally runs under its permission model (see node_permissions.py), Python under the
same rules from Landlock or an audit hook (see python_files.py).

The modules, one job each:

- namespaces.py: the shell words that put a command in its namespaces, and the probe that finds
  which of them this machine allows.
- command.py: the full command line for one run: limits via prlimit, the folders its mount
  namespace keeps, the user id it runs as.
- process.py: starting the run, reading its output under the time and output limits, ending its
  process tree.
- environment.py: the few environment variables a snippet's process sees.
- node_permissions.py and python_files.py: what each runtime's snippet may open and run.
"""
