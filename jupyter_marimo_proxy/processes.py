"""Facts about a process by its pid, from /proc where there is one."""

from __future__ import annotations

import os


def pid_alive(pid: int | None) -> bool:
    """Running: it exists and is not a zombie (a zombie still answers kill(0))."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def start_ticks(pid: int) -> int | None:
    """The kernel's start time of ``pid``: tells a process from a later one that got its pid."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None
