"""The Jupyter-process side of a marimo launch: settings, the per-launch secret, the port.

jupyter-server-proxy calls ``MarimoSession.launch_command`` each time it starts
the launcher, and ``auth_headers`` on every proxied request. Both live in the
Jupyter server's process, so the secret is handed to marimo through a private
file and to the proxy in memory: never on a command line, never to the browser.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from jupyter_server.utils import url_path_join

from .config import STATE_DIR_ENV, MarimoProxy
from .layout import StateLayout

if TYPE_CHECKING:
    from .package_service import PackageService

# The route jupyter-server-proxy serves marimo under, below Jupyter's base_url.
ROUTE_NAME = "marimo"


def marimo_base_url(jupyter_base_url: str) -> str:
    """marimo's --base-url: the proxied route's absolute path, without trailing slash."""
    return url_path_join(jupyter_base_url or "/", ROUTE_NAME).rstrip("/")


def marimo_tab_url(jupyter_base_url: str) -> str:
    return marimo_base_url(jupyter_base_url) + "/"


def escape_template(value: str) -> str:
    # jupyter-server-proxy runs str.format over commands and headers to fill in
    # {port} and {base_url}; braces in a path must survive that.
    return value.replace("{", "{{").replace("}", "}}")


def write_private_file(path: Path, text: str) -> None:
    """Create the file readable by its owner only, before any byte is written."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


@dataclass
class MarimoSession:
    """One per Jupyter server: the configuration and the current launch."""

    settings: MarimoProxy
    root_dir: str
    base_url: str = "/"
    port: int | None = None
    _secret: str | None = None
    _packages: "PackageService | None" = None

    @property
    def packages(self) -> "PackageService":
        if self._packages is None:
            from .package_service import PackageService

            self._packages = PackageService(self.settings)
        return self._packages

    @property
    def layout(self) -> StateLayout:
        return StateLayout(Path(self.settings.state_dir))

    def launch_command(self, port: int, base_url: str) -> list[str]:
        """A fresh secret for this launch and the command that starts the launcher.

        If the launch cannot even be prepared, the launcher is started only to
        explain why on marimo's URL, rather than leaving the proxy's bare 500.
        """
        try:
            command = self._prepare_launch(port, base_url)
        except OSError as error:
            message = f"The state directory {self.layout.root} is not usable: {error}. Set c.MarimoProxy.state_dir or ${STATE_DIR_ENV} to a writable directory."
            command = [sys.executable, "-m", "jupyter_marimo_proxy.launcher", "--explain", str(port), marimo_base_url(base_url), message]
        return [escape_template(part) for part in command]

    def _prepare_launch(self, port: int, base_url: str) -> list[str]:
        layout = self.layout
        layout.ensure()
        prune_run_dir(layout)
        self._secret = secrets.token_urlsafe(32)
        self.port = int(port)
        self.base_url = base_url
        secret_file = layout.secret_file(self.port)
        write_private_file(secret_file, self._secret)
        spec = {
            "state_dir": str(layout.root),
            "root_dir": self.root_dir,
            "port": self.port,
            "base_url": marimo_base_url(base_url),
            "secret_file": str(secret_file),
            "startup_timeout": self.settings.startup_timeout,
            "base_python": self.settings.base_python,
            "extra_marimo_args": list(self.settings.extra_marimo_args),
            "uv_path": self.uv_path(),
            "idle_timeout": self.settings.idle_timeout,
            "session_ttl": self.settings.session_ttl,
            "transport": self.settings.transport if self.settings.transport != "websocket" else None,
        }
        self.watch_for_rebuild(self.port)
        spec_file = layout.run_dir / f"launch-spec-{self.port}.json"
        write_private_file(spec_file, json.dumps(spec, indent=2))
        return [sys.executable, "-m", "jupyter_marimo_proxy.launcher", str(spec_file)]

    def watch_for_rebuild(self, port: int) -> None:
        """Once this launch settles, reinstall the manifest if the launcher had to
        (re)build the venv. Asynchronous, so nothing here delays marimo's start;
        the launcher reports the rebuild because only it probes the venv."""

        async def watch() -> None:
            state_file = self.layout.launch_state_file(port)
            deadline = time.monotonic() + self.proxy_timeout()
            while time.monotonic() < deadline:
                await asyncio.sleep(0.2)
                try:
                    facts = json.loads(state_file.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    continue
                if facts.get("state") not in ("running", "failed"):
                    continue
                if facts.get("venv_rebuilt"):
                    self._repair_after_rebuild(facts)
                return

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # not inside the server (a unit test): nothing to watch from
        loop.create_task(watch())

    def _repair_after_rebuild(self, facts: dict) -> None:
        from .manifest import load_manifest

        requested = load_manifest(self.layout.manifest).requested
        if not (facts.get("venv_existed") or requested) or self.packages.pending_repair() is not None:
            return  # a first venv, nothing recorded to bring back
        problems = " ".join(facts.get("venv_problems") or [])
        self.packages.repair(f"The venv was rebuilt when marimo started: {problems}".strip())

    def uv_path(self) -> str | None:
        from .installer import choose_installer

        installer = choose_installer(self.settings.installer)
        return installer.path if installer.name == "uv" else None

    def auth_headers(self) -> dict[str, str]:
        # marimo accepts "Authorization: Bearer <token>". Overriding the header
        # also keeps a Jupyter token sent by an API client from reaching marimo.
        if not self._secret:
            return {}
        return {"Authorization": escape_template(f"Bearer {self._secret}")}

    def proxy_timeout(self) -> float:
        # The launcher answers with an explanation page when marimo fails within
        # startup_timeout; the proxy must wait longer than that (plus the time to
        # create the venv) so the user sees the explanation, not a bare 500.
        return self.settings.startup_timeout + 30.0


def prune_run_dir(layout: StateLayout) -> None:
    """Remove the per-launch files (secrets included) of launchers that are gone."""
    import re

    from .status import pid_alive

    for state_file in layout.run_dir.glob("launch-*.json"):
        match = re.fullmatch(r"launch-(\d+)\.json", state_file.name)
        if not match:
            continue
        try:
            launcher_pid = json.loads(state_file.read_text(encoding="utf-8")).get("launcher_pid")
        except (OSError, ValueError):
            launcher_pid = None
        if pid_alive(launcher_pid):
            continue
        port = int(match.group(1))
        for leftover in (state_file, layout.secret_file(port), layout.run_dir / f"launch-spec-{port}.json"):
            leftover.unlink(missing_ok=True)


_session: MarimoSession | None = None


def install_session(settings: MarimoProxy, root_dir: str, base_url: str) -> MarimoSession:
    global _session
    _session = MarimoSession(settings=settings, root_dir=root_dir, base_url=base_url)
    return _session


def current_session() -> MarimoSession:
    """The session set up by the server extension, or one on defaults.

    The proxy entry point may be loaded before our server extension (or without
    it, if an admin disabled it); defaults keep the route working then.
    """
    global _session
    if _session is None:
        _session = MarimoSession(settings=MarimoProxy(), root_dir=os.getcwd())
    return _session
