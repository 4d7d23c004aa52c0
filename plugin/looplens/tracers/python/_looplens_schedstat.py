"""Each thread's run-queue delay: how long, in all, the machine kept it waiting to run (µs).

Linux's /proc/thread-self/schedstat holds three numbers: time on the CPU, time waiting on a
run queue (both ns) and time slices. A clock margin measured between two moments is only proof if
the threads involved were not kept waiting in between; the difference of this delay says how
long they were. Each thread opens its own file once and rereads it (the sandbox lets the tracer
read beneath /proc/self/task); where it cannot be read, the delay is unknown (None).
"""

from __future__ import annotations

import os
import threading

_BUFFER_SIZE = 96
_UNREADABLE = -1
_local = threading.local()


class _Schedstat:
    """One thread's open schedstat file, closed with the thread's local data."""

    def __init__(self) -> None:
        # A forked child has threads of its own: it opens its own file.
        self.pid = os.getpid()
        try:
            # The calling thread's own file, whatever the pid namespace calls it.
            self.fd = os.open("/proc/thread-self/schedstat", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            self.fd = _UNREADABLE

    def delay_us(self) -> int | None:
        if self.fd == _UNREADABLE:
            return None
        try:
            fields = os.pread(self.fd, _BUFFER_SIZE, 0).split()
            return int(fields[1]) // 1000
        except (OSError, IndexError, ValueError):
            return None

    def __del__(self) -> None:
        if self.fd != _UNREADABLE:
            os.close(self.fd)


def run_queue_delay_us() -> int | None:
    """This thread's run-queue delay so far (µs); None where the kernel does not say."""
    schedstat: _Schedstat | None = getattr(_local, "schedstat", None)
    if schedstat is None or schedstat.pid != os.getpid():
        schedstat = _local.schedstat = _Schedstat()
    return schedstat.delay_us()
