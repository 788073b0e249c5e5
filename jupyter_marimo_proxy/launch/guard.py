"""A tiny watcher that ends marimo's process group if the launcher dies.

marimo gets SIGTERM when the launcher dies (PR_SET_PDEATHSIG), but what marimo
started (kernels, multiprocessing's resource tracker, which ignores SIGTERM)
can outlive it. The guard is started before the launcher has any thread, in a
session of its own (a signal to Jupyter's process group does not reach it),
and learns marimo's process group through a pipe. When the pipe closes, the
launcher is gone, however it went: the guard ends the group it last heard of.

``end_group`` does the same from Python, for the next start's clean-up of
what a kill of everything at once left behind.
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


# The guard itself is a shell, not a forked Python: a forked interpreter keeps
# ~10 MB of copied pages for a process that only waits on a pipe. It remembers
# the last process group it was told of; at end of input (the launcher is gone)
# it ends that group: SIGTERM, up to 3 s, then SIGKILL.
GUARD_SCRIPT = """
trap '' TERM INT HUP
pgid=0
while read -r line; do pgid=$line; done
[ "$pgid" -gt 0 ] 2>/dev/null || exit 0
kill -TERM -- "-$pgid" 2>/dev/null || exit 0
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30; do
  kill -0 -- "-$pgid" 2>/dev/null || exit 0
  sleep 0.1
done
kill -KILL -- "-$pgid" 2>/dev/null
exit 0
"""
SHELL = "/bin/sh"


class GroupGuard:
    """The launcher's end of the pipe: tell the guard which group to end."""

    def __init__(self, write_fd: int | None, pid: int | None = None) -> None:
        self._fd = write_fd
        self.pid = pid

    @classmethod
    def fork(cls, label: str = "") -> "GroupGuard":
        """Call before any thread exists (a forked child only has the caller's thread).

        ``label`` is shown on the guard's command line (the state dir, so that
        tests and people can tell whose guard it is)."""
        if not hasattr(os, "fork") or not os.path.exists(SHELL):
            return cls(None)
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the guard
            try:
                os.close(write_fd)
                os.setsid()  # a signal to Jupyter's process group does not reach it
                os.dup2(read_fd, 0)
                os.execv(SHELL, [SHELL, "-c", GUARD_SCRIPT, "jupyter-marimo-proxy-guard", label])
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
