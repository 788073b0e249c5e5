"""The Jupyter-process side of a marimo launch: settings, the per-launch secret, the port.

jupyter-server-proxy calls ``MarimoSession.launch_command`` each time it starts
the launcher, and ``auth_headers`` on every proxied request. Both live in the
Jupyter server's process, so the secret is handed to marimo through a private
file and to the proxy in memory: never on a command line, never to the browser.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from jupyter_server.utils import url_path_join

from .config import STATE_DIR_ENV, MarimoProxy
from .layout import StateLayout
from .private_files import write_private_file

if TYPE_CHECKING:
    from .packages.service import PackageService

# The route jupyter-server-proxy serves marimo under, below Jupyter's base_url.
ROUTE_NAME = "marimo"
# The route of ``marimo run`` on the root: notebooks as apps, a kernel per tab.
APPS_ROUTE_NAME = "marimo-apps"


def marimo_base_url(jupyter_base_url: str) -> str:
    """marimo's --base-url: the proxied route's absolute path, without trailing slash."""
    return url_path_join(jupyter_base_url or "/", ROUTE_NAME).rstrip("/")


def marimo_tab_url(jupyter_base_url: str) -> str:
    return marimo_base_url(jupyter_base_url) + "/"


def escape_template(value: str) -> str:
    # jupyter-server-proxy runs str.format over commands and headers to fill in
    # {port} and {base_url}; braces in a path must survive that.
    return value.replace("{", "{{").replace("}", "}}")


def module_command(module: str, *args: str) -> list[str]:
    """Jupyter's interpreter running one of our modules, immune to the working directory.

    ``python -m`` puts the working directory first on ``sys.path``, and our
    subprocesses start in Jupyter's (often the root): a ``jupyter_marimo_proxy.py``
    there would run instead. ``-P`` (3.11+) keeps it out; older interpreters drop
    it by hand before importing anything of ours. (Not ``-I``: that would also
    drop a user site-packages our package may be installed in.)
    """
    if sys.version_info >= (3, 11):
        return [sys.executable, "-P", "-m", module, *args]
    bootstrap = f"import sys, runpy; sys.path.pop(0); runpy.run_module({module!r}, run_name='__main__', alter_sys=True)"
    return [sys.executable, "-c", bootstrap, *args]


def launcher_command(*args: str) -> list[str]:
    return module_command("jupyter_marimo_proxy.launcher", *args)


class LaunchRefused(Exception):
    """A launch the settings do not allow; the message says which setting to change."""


@dataclass
class MarimoSession:
    """One per Jupyter server: the configuration and the current launch."""

    settings: MarimoProxy
    root_dir: str
    base_url: str = "/"
    port: int | None = None
    _secret: str | None = None
    _secret_seen: tuple | None = None
    _explaining: bool = False
    _previous_secret: str | None = None
    _packages: "PackageService | None" = None
    # Which jupyter-server-proxy route this session serves, and marimo's mode there.
    route: str = ROUTE_NAME
    mode: str = "edit"

    @property
    def packages(self) -> "PackageService":
        if self._packages is None:
            from .packages.service import PackageService

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
        self.port = int(port)
        self.base_url = base_url
        self._secret = secrets.token_urlsafe(32)
        self._secret_seen = None
        self._explaining = False
        from .launch.marimo_cli import refused_extra_args

        refused = refused_extra_args(list(self.settings.extra_marimo_args))
        try:
            if refused:
                raise LaunchRefused(
                    f"c.MarimoProxy.extra_marimo_args contains {', '.join(refused)}, which the extension sets "
                    "itself or keeps out (loopback, the secret, the route). Remove it from the setting."
                )
            command = self._prepare_launch(port, base_url)
        except LaunchRefused as error:
            self._explaining = True
            command = launcher_command("--explain", str(port), marimo_base_url(base_url), str(error))
        except OSError as error:
            self._explaining = True
            message = f"The state directory {self.layout.root} is not usable: {error}. Set c.MarimoProxy.state_dir or ${STATE_DIR_ENV} to a writable directory."
            command = launcher_command("--explain", str(port), marimo_base_url(base_url), message)
        return [escape_template(part) for part in command]

    def launch_environment(self) -> dict[str, str]:
        """For jupyter-server-proxy's ``environment``: the launch's first secret,
        for an explanation-only launch that has no state dir to read it from.
        A process's environment is readable by its own account only."""
        from .launcher import SECRET_ENV

        return {SECRET_ENV: escape_template(self._secret)} if self._explaining and self._secret else {}

    def _prepare_launch(self, port: int, base_url: str) -> list[str]:
        layout = self.layout
        layout.ensure()
        prune_run_dir(layout)
        secret_file = layout.secret_file(self.port)
        # The launcher replaces it with a fresh one at every start of marimo.
        write_private_file(secret_file, self._secret)
        spec = {
            "state_dir": str(layout.root),
            "root_dir": self.root_dir,
            "port": self.port,
            "base_url": url_path_join(base_url or "/", self.route).rstrip("/"),
            "mode": self.mode,
            "secret_file": str(secret_file),
            "startup_timeout": self.settings.startup_timeout,
            "base_python": self.settings.base_python,
            "extra_marimo_args": list(self.settings.extra_marimo_args),
            "uv_path": self.uv_path(),
            "idle_timeout": self.settings.idle_timeout,
            "session_ttl": self.settings.session_ttl,
            "transport": self.settings.transport if self.settings.transport != "websocket" else None,
        }
        spec_file = layout.launch_spec_file(self.port)
        write_private_file(spec_file, json.dumps(spec, indent=2))
        return launcher_command(str(spec_file))

    def current_secret(self) -> str | None:
        """The secret of marimo's current start: the launcher rotates it in the
        secret file, so it is re-read whenever that file changes."""
        if self.port is None:
            return self._secret
        path = self.layout.secret_file(self.port)
        try:
            info = os.stat(path)
        except OSError:
            return self._secret
        seen = (info.st_ino, info.st_mtime_ns, info.st_size)
        if seen != self._secret_seen:
            try:
                fresh = path.read_text(encoding="utf-8").strip()
            except OSError:
                return self._secret
            if fresh and fresh != self._secret:
                self._previous_secret, self._secret = self._secret, fresh
            self._secret_seen = seen
        return self._secret

    def known_secrets(self) -> list[str]:
        """The current secret and the one before: no answer to the browser may hold either."""
        current = self.current_secret()
        return [s for s in (current, self._previous_secret) if s]

    def take_rebuild_report(self) -> dict | None:
        """The launcher's note that it rebuilt the venv, taken by one server only
        (a rename is atomic, so two servers of one user never both repair)."""
        note = self.layout.rebuild_note
        taken = note.with_name(f"{note.name}.{os.getpid()}.taken")
        try:
            os.rename(note, taken)
        except OSError:
            return None
        try:
            return json.loads(taken.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        finally:
            taken.unlink(missing_ok=True)

    def repair_after_rebuild(self) -> None:
        """Reinstall the manifest in the background if a launcher rebuilt the venv,
        whoever started that launcher (this server, or jupyter-server-proxy
        restarting it on its own). Called on a timer: a stat when nothing happened."""
        if not self.layout.rebuild_note.exists():
            return
        facts = self.take_rebuild_report()
        if facts is None:
            return
        from .packages.manifest import load_manifest

        requested = load_manifest(self.layout.manifest).requested
        if not (facts.get("venv_existed") or requested) or self.packages.pending_repair() is not None:
            return  # a first venv, nothing recorded to bring back
        problems = " ".join(facts.get("venv_problems") or [])
        self.packages.repair(f"The venv was rebuilt when marimo started: {problems}".strip())

    def uv_path(self) -> str | None:
        from .packages.installer import choose_installer

        installer = choose_installer(self.settings.installer)
        return installer.path if installer.name == "uv" else None

    def auth_headers(self) -> dict[str, str]:
        # marimo accepts "Authorization: Bearer <token>". Overriding the header
        # also keeps a Jupyter token sent by an API client from reaching marimo.
        secret = self.current_secret()
        if not secret:
            return {}
        return {"Authorization": escape_template(f"Bearer {secret}")}

    def proxy_timeout(self) -> float:
        # The launcher answers with an explanation page when marimo fails within
        # startup_timeout; the proxy must wait longer than that (plus the time to
        # create the venv) so the user sees the explanation, not a bare 500.
        return self.settings.startup_timeout + 30.0


def prune_run_dir(layout: StateLayout) -> None:
    """Clean up after launchers that are gone: their per-launch files (secrets
    included) and, if a hard kill left it running, marimo's process group."""
    import re

    from .processes import pid_alive

    for state_file in layout.run_dir.glob("launch-*.json"):
        match = re.fullmatch(r"launch-(\d+)\.json", state_file.name)
        if not match:
            continue
        try:
            facts = json.loads(state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            facts = {}
        if pid_alive(facts.get("launcher_pid")):
            continue
        end_leftover_marimo(facts)
        port = int(match.group(1))
        for leftover in (state_file, layout.secret_file(port), layout.launch_spec_file(port)):
            leftover.unlink(missing_ok=True)


def end_leftover_marimo(facts: dict) -> None:
    """End the process group of a marimo whose launcher died, if it is still the
    same process (its start time recorded by the launcher matches)."""
    from .launch.guard import end_group
    from .processes import start_ticks

    pgid, started = facts.get("marimo_pid"), facts.get("marimo_started")
    if not pgid:
        return
    leader_started = start_ticks(pgid)
    if leader_started is not None and leader_started != started:
        return  # the pid now belongs to another process: the old group is gone
    # With its leader gone, a group that still exists is the old one: Linux
    # does not reuse a pid while a process group still carries it.
    end_group(pgid, grace=1.0)


_session: MarimoSession | None = None
_app_session: MarimoSession | None = None


def install_session(settings: MarimoProxy, root_dir: str, base_url: str) -> MarimoSession:
    global _session, _app_session
    _session = MarimoSession(settings=settings, root_dir=root_dir, base_url=base_url)
    _app_session = MarimoSession(
        settings=settings, root_dir=root_dir, base_url=base_url, route=APPS_ROUTE_NAME, mode="run"
    )
    return _session


def apps_tab_url(jupyter_base_url: str) -> str:
    return url_path_join(jupyter_base_url or "/", APPS_ROUTE_NAME).rstrip("/") + "/"


def current_app_session() -> MarimoSession:
    """The session of the apps route (``marimo run``), on the same settings as the editor's."""
    global _app_session
    if _app_session is None:
        editor = current_session()
        _app_session = MarimoSession(
            settings=editor.settings,
            root_dir=editor.root_dir,
            base_url=editor.base_url,
            route=APPS_ROUTE_NAME,
            mode="run",
        )
    return _app_session


def current_session() -> MarimoSession:
    """The session set up by the server extension, or one on defaults.

    The proxy entry point may be loaded before our server extension (or without
    it, if an admin disabled it); defaults keep the route working then.
    """
    global _session
    if _session is None:
        _session = MarimoSession(settings=MarimoProxy(), root_dir=os.getcwd())
    return _session
