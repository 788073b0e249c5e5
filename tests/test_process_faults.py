"""Never orphaned: every way Jupyter, the launcher or marimo can be stopped or
killed leaves no process of ours or of marimo's group behind.

Each fault runs several times (tests/stress.py: 3 by default, JMP_REPEAT=10
for a stress run): these faults are races, and a race seen once in ten runs
needs ten runs to be seen.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path

import pytest
import requests

from jupyter_process import JupyterServer
from marimo_kernel import KernelSession
from processes import all_processes, is_running, processes_mentioning
from stress import ROUNDS

SETTLE_SECONDS = 20.0


def start_server(base: Path, **options) -> JupyterServer:
    return JupyterServer(root_dir=base / "root", state_dir=base / "state", own_group=True, **options).start()


def open_marimo(server: JupyterServer, with_kernel: bool) -> dict:
    """Open marimo (and a notebook's kernel: marimo's group then also holds the
    kernel and multiprocessing's resource tracker); return the launch facts."""
    response = server.get("marimo/")
    assert response.status_code == 200 and "<marimo-version" in response.text, response.text[:500]
    if with_kernel:

        async def run_a_cell() -> None:
            async with KernelSession(server, "faults.py") as kernel:
                await kernel.run("x = 1")

        asyncio.run(run_a_cell())
    port = server.status()["marimo"]["port"]
    return json.loads((server.state_dir / "run" / f"launch-{port}.json").read_text())


def group_members(pgid: int) -> list[int]:
    members = []
    for process in all_processes():
        try:
            if os.getpgid(process.pid) == pgid and is_running(process.pid):
                members.append(process.pid)
        except ProcessLookupError:
            pass
    return members


def leftovers(server: JupyterServer, facts: dict) -> list[str]:
    """Processes of ours (anything naming the state dir) or of marimo's group still running."""
    mentioning = {p.pid: p.cmdline[:160] for p in processes_mentioning(str(server.state_dir)) if is_running(p.pid)}
    for pid in group_members(facts["marimo_pid"]):
        mentioning.setdefault(pid, f"(marimo's group) pid {pid}")
    return sorted(mentioning.values())


def settle(server: JupyterServer, facts: dict, timeout: float = SETTLE_SECONDS) -> list[str]:
    deadline = time.monotonic() + timeout
    while (left := leftovers(server, facts)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def wait_for_exit(server: JupyterServer, timeout: float = 30) -> None:
    assert server.proc is not None
    server.proc.wait(timeout=timeout)


def signal_group(server: JupyterServer, sig: int, times: int, gap: float) -> None:
    assert server.proc is not None
    for _ in range(times):
        try:
            os.killpg(server.proc.pid, sig)
        except ProcessLookupError:
            return
        time.sleep(gap)


# Each fault: (how it is done, whether a kernel is open). The server is started
# fresh each round; afterwards nothing may be left.
def double_sigterm_to_the_group(server, facts):
    # systemd, a container stop or a terminal: the launcher gets the group's
    # SIGTERM and another from jupyter-server-proxy's shutdown.
    signal_group(server, signal.SIGTERM, times=2, gap=0.01)
    wait_for_exit(server)


def triple_sigterm_to_the_group(server, facts):
    signal_group(server, signal.SIGTERM, times=3, gap=0.002)
    wait_for_exit(server)


def sigint_twice_to_the_group(server, facts):
    # Ctrl-C twice: Jupyter's "twice to skip confirmation".
    signal_group(server, signal.SIGINT, times=2, gap=0.05)
    wait_for_exit(server)


def sigterm_storm_to_the_launcher(server, facts):
    for _ in range(3):
        os.kill(facts["launcher_pid"], signal.SIGTERM)
    server.stop()


def sigkill_of_jupyter(server, facts):
    os.kill(server.proc.pid, signal.SIGKILL)
    wait_for_exit(server)


def sigkill_of_the_launcher(server, facts):
    os.kill(facts["launcher_pid"], signal.SIGKILL)
    time.sleep(1)
    server.stop()


def sigkill_of_jupyter_and_the_launcher(server, facts):
    os.kill(server.proc.pid, signal.SIGKILL)
    os.kill(facts["launcher_pid"], signal.SIGKILL)
    wait_for_exit(server)


def sigkill_of_the_whole_group(server, facts):
    # What `kill -9 -- -<pgid>` or an OOM kill of the lot does; the launcher's
    # guard lives in a session of its own and ends marimo's group.
    signal_group(server, signal.SIGKILL, times=1, gap=0)
    wait_for_exit(server)


def sigkill_of_marimo_then_shutdown(server, facts):
    os.kill(facts["marimo_pid"], signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        state = server.status()["marimo"]
        if state["state"] == "running":
            break
        time.sleep(0.2)
    server.stop()


FAULTS = [
    (double_sigterm_to_the_group, True),
    (triple_sigterm_to_the_group, False),
    (sigint_twice_to_the_group, False),
    (sigterm_storm_to_the_launcher, False),
    (sigkill_of_jupyter, False),
    (sigkill_of_the_launcher, False),
    (sigkill_of_jupyter_and_the_launcher, True),
    (sigkill_of_the_whole_group, True),
    (sigkill_of_marimo_then_shutdown, False),
]


@pytest.mark.parametrize("round_", ROUNDS)
@pytest.mark.parametrize("fault, with_kernel", FAULTS, ids=[f.__name__ for f, _ in FAULTS])
def test_no_process_outlives_the_fault(tmp_path, fault, with_kernel, round_):
    server = start_server(tmp_path)
    facts = {}
    try:
        facts = open_marimo(server, with_kernel)
        assert group_members(facts["marimo_pid"]), "marimo's group should be running"
        fault(server, facts)
        left = settle(server, facts)
        assert not left, f"left behind after {fault.__name__}: {left}"
        # Nothing secret stays behind either, when the launcher could clean up.
        if fault not in (sigkill_of_the_launcher, sigkill_of_jupyter_and_the_launcher, sigkill_of_the_whole_group):
            assert not list((server.state_dir / "run").glob("secret-*"))
    finally:
        server.stop()
        if facts:
            for pid in group_members(facts["marimo_pid"]):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("round_", ROUNDS)
def test_the_next_start_ends_what_a_kill_of_everything_left(tmp_path, round_):
    """SIGKILL of Jupyter, the launcher, its guard and marimo itself at once: only
    marimo's kernel and resource tracker remain, with nobody to end them. The
    next server on the same state dir finds them through the run dir."""
    server = start_server(tmp_path)
    try:
        facts = open_marimo(server, with_kernel=True)
        survivors = [pid for pid in group_members(facts["marimo_pid"]) if pid != facts["marimo_pid"]]
        assert survivors, "expected a kernel in marimo's group"
        for pid in (server.proc.pid, facts["launcher_pid"], facts["guard_pid"], facts["marimo_pid"]):
            os.kill(pid, signal.SIGKILL)
        wait_for_exit(server)
        time.sleep(0.5)
    finally:
        server.stop()
    again = start_server(tmp_path)
    try:
        assert again.get("marimo/").status_code == 200
        deadline = time.monotonic() + 10
        while group_members(facts["marimo_pid"]) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert group_members(facts["marimo_pid"]) == []
    finally:
        again.stop()
        for pid in group_members(facts["marimo_pid"]):
            os.kill(pid, signal.SIGKILL)


def test_a_restart_is_quiet_in_jupyters_log(tmp_path):
    """Requests that arrive while marimo restarts wait for it: no refused
    connection, so no traceback in Jupyter's log."""
    server = start_server(tmp_path)
    try:
        assert server.get("marimo/").status_code == 200
        results: list[int] = []

        async def hammer(stop_at: float) -> None:
            loop = asyncio.get_running_loop()
            while time.monotonic() < stop_at:
                response = await loop.run_in_executor(None, lambda: server.get("marimo/health", timeout=60))
                results.append(response.status_code)

        async def restart_while_hammering() -> None:
            stop_at = time.monotonic() + 8
            hammering = asyncio.gather(*(hammer(stop_at) for _ in range(3)))
            await asyncio.sleep(0.5)
            response = await asyncio.get_running_loop().run_in_executor(
                None, lambda: server.post("jupyter-marimo-proxy/restart")
            )
            assert response.status_code == 200, response.text
            await hammering

        asyncio.run(restart_while_hammering())
        assert results and set(results) == {200}, sorted(set(results))
        log = server.log()
        assert "Traceback" not in log and "ConnectionRefusedError" not in log, log[-3000:]
    finally:
        server.stop()
