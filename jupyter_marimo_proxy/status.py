"""What the status API reports: the venv, marimo's launch and the installer."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from . import __version__
from .packages.installer import choose_installer
from .launch.scrub import scrub
from .launcher import log_tail
from .processes import pid_alive
from .session import MarimoSession, marimo_tab_url
from .venv import VenvReport, apply_probe, probe_command, python_version_of, quick_check


async def check_venv(venv_dir: Path, expected_version: str | None = None, base_python: str | None = None) -> VenvReport:
    # With base_python: also whether it was built on this Jupyter environment.
    report = await asyncio.to_thread(quick_check, venv_dir, expected_version, base_python)
    if report.problems:
        return report
    proc = await asyncio.create_subprocess_exec(
        *probe_command(venv_dir),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=60)
    return apply_probe(report, proc.returncode or 0, stdout.decode(), stderr.decode())


def read_launch_state(session: MarimoSession) -> dict:
    if session.port is None:
        return {}
    try:
        return json.loads(session.layout.launch_state_file(session.port).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def marimo_report(session: MarimoSession, venv: VenvReport) -> dict:
    launch = read_launch_state(session)
    launcher_alive = pid_alive(launch.get("launcher_pid"))
    state = launch.get("state", "stopped") if launcher_alive else "stopped"
    if launch.get("state") == "failed":
        # The failure stays worth reporting after the launcher has exited.
        state = "failed"
    running = state == "running" and pid_alive(launch.get("marimo_pid"))
    if state == "running" and not running:
        state = "stopped"
    error = launch.get("error")
    return {
        "version": venv.marimo_version,
        "running": running,
        "state": state,
        "port": session.port if launcher_alive else None,
        "url": marimo_tab_url(session.base_url),
        "error": error,
        "log_tail": scrub(launch.get("log_tail") or "") or (log_tail(session.layout.marimo_log(session.port)) if error else None),
    }


def state_dir_problem(root: Path) -> str | None:
    """Why the state directory cannot hold the venv, if it cannot."""
    existing = root
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        return (
            f"The state directory {root} is not writable. Set c.MarimoProxy.state_dir or "
            "$JUPYTER_MARIMO_PROXY_STATE_DIR to a writable directory."
        )
    return None


async def build_status(session: MarimoSession) -> dict:
    version = await asyncio.to_thread(python_version_of, session.settings.base_python)
    venv = await check_venv(session.layout.venv_dir, version, session.settings.base_python)
    problem = state_dir_problem(session.layout.root)
    if problem:
        venv.problems.insert(0, problem)
        venv.healthy = False
    if venv.marimo_version is None and not venv.exists:
        # Before the venv exists, the marimo it will use is Jupyter's own.
        from importlib.metadata import PackageNotFoundError, version

        try:
            venv.marimo_version = version("marimo")
        except PackageNotFoundError:
            pass
    return {
        "version": __version__,
        "state_dir": str(session.layout.root),
        "root_dir": session.root_dir,
        "venv": venv.to_json(),
        "marimo": marimo_report(session, venv),
        "installer": choose_installer(session.settings.installer).to_json(),
        # Recorded packages the last repair could not reinstall: name -> why.
        "failed_packages": await asyncio.to_thread(session.packages.failed_packages),
    }
