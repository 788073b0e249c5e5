"""A tiny forked watcher that ends marimo's process group if the launcher dies.

marimo gets SIGTERM when the launcher dies (PR_SET_PDEATHSIG), but what marimo
started (kernels, multiprocessing's resource tracker, which ignores SIGTERM)
can outlive it. The guard is forked before the launcher starts any thread, in
a session of its own (a signal to Jupyter's process group does not reach it),
and learns marimo's process group through a pipe. When the pipe closes, the
launcher is gone, however it went: the guard ends the group it last heard of.
"""

from __future__ import annotations

import os
import signal
import time

GRACE_SECONDS = 3.0


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def end_group(pgid: int, grace: float = GRACE_SECONDS) -> None:
    """SIGTERM the group, then SIGKILL whatever is left after ``grace``."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and group_alive(pgid):
        time.sleep(0.05)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _watch(read_fd: int) -> None:
    pgid = 0
    pending = b""
    while True:
        try:
            data = os.read(read_fd, 256)
        except InterruptedError:
            continue
        if not data:
            break
        pending += data
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if line.strip().isdigit():
                pgid = int(line)
    if pgid:
        end_group(pgid)


class GroupGuard:
    """The launcher's end of the pipe: tell the guard which group to end."""

    def __init__(self, write_fd: int | None, pid: int | None = None) -> None:
        self._fd = write_fd
        self.pid = pid

    @classmethod
    def fork(cls) -> "GroupGuard":
        """Call before any thread exists (a forked child only has the caller's thread)."""
        if not hasattr(os, "fork"):
            return cls(None)
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the guard
            try:
                os.close(write_fd)
                os.setsid()
                for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                    signal.signal(sig, signal.SIG_IGN)
                _watch(read_fd)
            finally:
                os._exit(0)
        os.close(read_fd)
        os.set_inheritable(write_fd, False)
        return cls(write_fd, pid)

    def watch(self, pgid: int | None) -> None:
        if self._fd is None:
            return
        try:
            os.write(self._fd, f"{pgid or 0}\n".encode())
        except OSError:
            pass  # the guard is gone: the run dir's record is the fallback
