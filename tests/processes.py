"""Reading /proc: which processes run, with what command line and interpreter."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass
class ProcessInfo:
    pid: int
    argv: list[str]
    exe: str | None

    @property
    def cmdline(self) -> str:
        return " ".join(self.argv)


def all_processes() -> list[ProcessInfo]:
    found = []
    own = {os.getpid()}
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in own:
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as handle:
                raw = handle.read()
        except OSError:
            continue
        try:
            exe = os.readlink(f"/proc/{name}/exe")
        except OSError:
            exe = None
        argv = [part.decode(errors="replace") for part in raw.split(b"\0") if part]
        if argv:
            found.append(ProcessInfo(int(name), argv, exe))
    return found


def processes_mentioning(text: str) -> list[ProcessInfo]:
    return [p for p in all_processes() if text in p.cmdline]


def environ_of(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/environ", "rb") as handle:
        pairs = [item.split(b"=", 1) for item in handle.read().split(b"\0") if b"=" in item]
    return {k.decode(): v.decode(errors="replace") for k, v in pairs}


def is_running(pid: int | None) -> bool:
    """Alive and not a zombie (a zombie still has a /proc entry)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, TypeError):
        return False
