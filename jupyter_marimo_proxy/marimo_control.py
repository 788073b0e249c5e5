"""Restarting marimo in place, through its launcher (SIGHUP: same port, same secret)."""

from __future__ import annotations

import asyncio
import os
import signal
import time

from .session import MarimoSession
from .processes import pid_alive
from .status import read_launch_state


class NotRunning(Exception):
    pass


async def restart_marimo(session: MarimoSession) -> dict:
    """Restart marimo and wait until it answers again, or failed; return the launch state.

    A launcher whose marimo failed to start is restarted too: that is trying again."""
    before = read_launch_state(session)
    launcher_pid = before.get("launcher_pid")
    if not pid_alive(launcher_pid) or before.get("state") not in ("running", "starting", "failed"):
        raise NotRunning("marimo is not running; it starts when you open it from the Launcher.")
    # The restart's own start comes after every start the state knows of (one
    # under way when we ask ends first, and its outcome is not the restart's).
    started_before = before.get("start") or 0
    os.kill(launcher_pid, signal.SIGHUP)
    deadline = time.monotonic() + session.settings.startup_timeout + 15
    while time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        state = read_launch_state(session)
        if (state.get("start") or 0) > started_before and state.get("state") in ("running", "failed"):
            return state
        if not pid_alive(launcher_pid):
            return {**state, "state": "failed", "error": state.get("error") or "The launcher stopped during the restart."}
    return {**read_launch_state(session), "state": "failed", "error": "marimo did not come back in time."}
