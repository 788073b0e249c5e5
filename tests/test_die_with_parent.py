"""The installer dies with Jupyter: both ways ``jobs.dying_with_parent`` arranges
it (util-linux's setpriv, and the preexec hook where setpriv is missing), with
real processes: a parent that starts ``sleep`` that way, then is SIGKILLed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from jupyter_marimo_proxy.packages import jobs

ROOT = Path(__file__).resolve().parent.parent

PARENT = textwrap.dedent(
    """
    import subprocess, sys, time
    from jupyter_marimo_proxy.packages import jobs
    if sys.argv[1] == "hook":
        jobs._setpriv = None  # as on a system without setpriv
    argv, preexec_fn = jobs.dying_with_parent(["sleep", "120"])
    child = subprocess.Popen(argv, preexec_fn=preexec_fn, start_new_session=True)
    print(child.pid, argv[0], flush=True)
    time.sleep(120)
    """
)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signals are Linux's")
@pytest.mark.parametrize("way", ["setpriv", "hook"])
def test_the_child_gets_sigterm_when_its_parent_is_killed(way):
    if way == "setpriv":
        # The fast way must be the one used here (Debian's util-linux has it).
        assert jobs._setpriv_with_pdeathsig() is not None
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, way], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    child_pid = None
    try:
        child_pid_text, program = parent.stdout.readline().split()
        child_pid = int(child_pid_text)
        assert program.endswith("setpriv") == (way == "setpriv")
        # The child runs sleep itself (setpriv exec'd it, keeping its pid).
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and Path(f"/proc/{child_pid}/comm").read_text().strip() != "sleep":
            time.sleep(0.02)
        assert Path(f"/proc/{child_pid}/comm").read_text().strip() == "sleep"
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(child_pid):
            time.sleep(0.02)
        assert not _alive(child_pid), "the child outlived its killed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if child_pid is not None and _alive(child_pid):
            os.kill(child_pid, signal.SIGKILL)
