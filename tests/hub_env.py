"""A real JupyterHub on this machine, for ``test_hub.py`` and ``benchmarks_hub.py``.

JupyterHub (pinned in the ``test`` extra, installed by ``scripts/setup.sh``)
runs as root from the project's ``.venv`` with configurable-http-proxy (pinned
in ``tests/hub/package-lock.json``, installed by ``scripts/setup.sh``), PAM
logins and the default LocalProcessSpawner, which starts each user's
``jupyterhub-singleuser`` as that OS user.

The users' servers cannot run from ``.venv``: the clone may sit in a folder
other accounts cannot enter (CI clones under ``/root``, mode 0700), and the
project's interpreter lives under ``/root/.pyenv`` here. So the hub gets a
*single-user environment* every account can read, as a real deployment has
(``/opt/...``): a venv on Debian's ``/usr/bin/python3.11`` holding exactly
the packages of ``.venv`` (``uv pip freeze``), installed offline from uv's
cache (hard links where the cache shares the filesystem), plus this project
built from the working tree (not editable). Nothing of the machine's own
permissions is changed. Everything lives under one temporary folder
(``/tmp/jmp-hub-*``, mode 0755) and the OS users created (``useradd -m``,
mode 0755 homes) are removed at the end with their homes.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv"
CHP = REPO / "tests" / "hub" / "node_modules" / ".bin" / "configurable-http-proxy"
USER_PYTHON = "/usr/bin/python3.11"  # readable by every account, unlike the project's interpreter
STATE_SUFFIX = ".local/share/jupyter/marimo-proxy"
ACTIVITY_INTERVAL = 2  # seconds between jupyterhub-singleuser's activity reports (default 300)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def missing_prerequisites() -> str | None:
    if os.geteuid() != 0:
        return "the hub tests need root: they create OS users and run JupyterHub's LocalProcessSpawner."
    if not CHP.exists():
        return f"configurable-http-proxy is missing ({CHP}): run bash scripts/setup.sh (it runs npm ci in tests/hub)."
    if not (VENV / "bin" / "jupyterhub").exists():
        return "jupyterhub is missing from .venv: run bash scripts/setup.sh (the test extra pins it)."
    if not os.access(USER_PYTHON, os.X_OK):
        return f"{USER_PYTHON} is needed for the users' single-user environment (apt-get install python3)."
    return None


def build_user_environment(target: Path) -> Path:
    """A venv every account can read, with .venv's packages and this project; offline."""
    uv = str(VENV / "bin" / "uv")
    frozen = subprocess.run(
        [uv, "pip", "freeze", "--python", str(VENV / "bin" / "python"), "--exclude-editable"],
        check=True, capture_output=True, text=True,
    ).stdout
    # pip and setuptools came with `python -m venv`, not through uv's cache; the env needs neither.
    wanted = [line for line in frozen.splitlines() if line and not line.startswith(("pip==", "setuptools=="))]
    requirements = target.parent / "user-env-requirements.txt"
    requirements.write_text("\n".join(wanted) + "\n")
    subprocess.run([uv, "venv", "-q", "--python", USER_PYTHON, str(target)], check=True, capture_output=True)
    common = [uv, "pip", "install", "-q", "--python", str(target / "bin" / "python"), "--offline"]
    run = lambda *args, **kw: subprocess.run([*common, *args], check=True, capture_output=True, text=True, **kw)  # noqa: E731
    try:
        # .venv's interpreter is 3.11.7, Debian's 3.11.2: resolve the pins as for .venv's.
        run("--python-version", "3.11.7", "--link-mode=hardlink", "-r", str(requirements))
        # This project as a user installs it (the frontend is already built by setup.sh).
        run("--no-deps", "--no-build-isolation", "--link-mode=copy", str(REPO), env={**os.environ, "SKIP_JUPYTER_BUILDER": "1"})
    except subprocess.CalledProcessError as error:
        raise RuntimeError(f"could not build the users' environment offline:\n{error.stderr}") from error
    return target


@dataclass
class HubUser:
    name: str
    uid: int
    gid: int
    home: Path
    password: str

    @property
    def state_dir(self) -> Path:
        return self.home / STATE_SUFFIX

    def run(self, args: list[str], **kwargs) -> subprocess.CompletedProcess:
        """Run a command as this OS user (no hub involved)."""
        return subprocess.run(
            args, user=self.uid, group=self.gid, extra_groups=[], cwd="/",
            env={"PATH": "/usr/bin:/bin", "HOME": str(self.home), "LANG": "C.UTF-8"},
            capture_output=True, text=True, **kwargs,
        )


def create_user(prefix: str) -> HubUser:
    name = f"{prefix}{secrets.token_hex(3)}"
    password = secrets.token_urlsafe(12)
    subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", "--user-group", name], check=True, capture_output=True)
    subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True, capture_output=True)
    entry = pwd.getpwnam(name)
    home = Path(entry.pw_dir)
    # A world-traversable home, as on many machines: only the extension's own
    # file modes stand between the other account and the secret.
    home.chmod(0o755)
    return HubUser(name, entry.pw_uid, entry.pw_gid, home, password)


def processes_of(uid: int) -> list[tuple[int, str]]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}").st_uid != uid:
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                found.append((int(entry), handle.read().replace(b"\0", b" ").decode(errors="replace").strip()))
        except OSError:
            continue
    return found


def remove_user(user: HubUser) -> None:
    """Ends whatever the user still runs (only their own processes) and removes the account."""
    for _ in range(3):
        leftovers = processes_of(user.uid)
        if not leftovers:
            break
        for pid, _cmd in leftovers:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.5)
    subprocess.run(["userdel", "--remove", user.name], capture_output=True)


CONFIG = """
c = get_config()  # noqa
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub_port}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.ConfigurableHTTPProxy.command = [{chp!r}]
c.ConfigurableHTTPProxy.auth_token = {proxy_token!r}
c.JupyterHub.db_url = "sqlite:///{base}/hub/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{base}/hub/cookie_secret"
c.JupyterHub.pid_file = "{base}/hub/jupyterhub.pid"
c.JupyterHub.allow_named_servers = True
# Activity reaches the hub within seconds instead of minutes, so the idle checks mean something.
c.JupyterHub.last_activity_interval = {activity}
c.JupyterHub.activity_resolution = 1
c.Authenticator.allowed_users = set({users!r})
c.PAMAuthenticator.open_sessions = False
c.JupyterHub.services = [
    {{"name": "jmp-tests", "api_token": {admin_token!r}}},
    # The culler the tests start themselves, with the scopes docs/deploy/jupyterhub-local.md gives it.
    {{"name": "idle-culler", "api_token": {culler_token!r}}},
]
c.JupyterHub.load_roles = [
    {{
        "name": "jmp-tests",
        "scopes": ["admin:users", "admin:servers", "tokens", "access:servers", "read:users:activity"],
        "services": ["jmp-tests"],
    }},
    {{
        "name": "idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    }},
]
c.Spawner.cmd = ["{env}/bin/jupyterhub-singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
c.Spawner.environment = {{
    "PATH": "{env}/bin:/usr/local/bin:/usr/bin:/bin",
    "JUPYTERHUB_ACTIVITY_INTERVAL": "{activity}",
    # Installs come from a wheel folder, never from an index.
    "JUPYTER_CONFIG_PATH": "{base}/user-config",
}}
"""

USER_CONFIG = """
c = get_config()  # noqa
c.MarimoProxy.find_links = [{wheels!r}]
c.MarimoProxy.no_index = True
"""


@dataclass
class Hub:
    base: Path
    users: list[HubUser]
    env: Path
    port: int = field(default_factory=free_port)
    admin_token: str = field(default_factory=lambda: secrets.token_hex(24))
    culler_token: str = field(default_factory=lambda: secrets.token_hex(24))
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.base / "hub" / "jupyterhub.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self, wheels: Path) -> "Hub":
        (self.base / "hub").mkdir(mode=0o700)
        (self.base / "user-config").mkdir(mode=0o755)
        (self.base / "user-config" / "jupyter_server_config.py").write_text(USER_CONFIG.format(wheels=str(wheels)))
        config = self.base / "hub" / "jupyterhub_config.py"
        config.write_text(CONFIG.format(
            port=self.port, hub_port=free_port(), api_port=free_port(), chp=str(CHP),
            proxy_token=secrets.token_hex(24), base=self.base, activity=ACTIVITY_INTERVAL,
            users=[u.name for u in self.users], admin_token=self.admin_token, culler_token=self.culler_token,
            env=self.env,
        ))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "VIRTUAL_ENV", "PYTHON"))}
        env["PATH"] = f"{VENV / 'bin'}:{os.path.dirname(shutil.which('node') or '/usr/bin/node')}:/usr/bin:/bin"
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [str(VENV / "bin" / "jupyterhub"), "-f", str(config)],
            cwd=self.base / "hub", env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyterhub exited:\n{self.log()[-4000:]}")
            try:
                if requests.get(self.url + "/hub/api/", timeout=2).ok:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"jupyterhub did not start:\n{self.log()[-4000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        # configurable-http-proxy is the hub's child in its session; end it if the hub did not.
        if self.proc:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    # -- the REST API, as the admin service ---------------------------------------

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"token {self.admin_token}", **kwargs.pop("headers", {})}
        return requests.request(method, f"{self.url}/hub/api/{path}", headers=headers, timeout=60, **kwargs)

    def servers(self, user: HubUser) -> dict:
        """The user's running (or starting) servers, by name ("" is the default one)."""
        return self.api("GET", f"users/{user.name}").json().get("servers", {})

    def start_server(self, user: HubUser, name: str = "") -> None:
        response = self.api("POST", f"users/{user.name}/servers/{name}" if name else f"users/{user.name}/server")
        assert response.status_code in (201, 202), response.text

    def wait_ready(self, user: HubUser, name: str = "", timeout: float = 180) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            server = self.servers(user).get(name)
            if server and server.get("ready"):
                return server
            time.sleep(0.3)
        raise TimeoutError(f"{user.name}'s server {name!r} did not get ready:\n{self.log()[-4000:]}")

    def stop_server(self, user: HubUser, name: str = "") -> None:
        response = self.api("DELETE", f"users/{user.name}/servers/{name}" if name else f"users/{user.name}/server")
        assert response.status_code in (202, 204), response.text

    def wait_stopped(self, user: HubUser, name: str = "", timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if name not in self.servers(user):
                return
            time.sleep(0.3)
        raise TimeoutError(f"{user.name}'s server {name!r} did not stop")

    def token_for(self, user: HubUser) -> str:
        response = self.api("POST", f"users/{user.name}/tokens", json={"note": "jmp-tests", "expires_in": 3600})
        assert response.status_code == 201, response.text
        return response.json()["token"]

    def last_activity(self, user: HubUser, name: str = "") -> str | None:
        return self.servers(user)[name]["last_activity"]

    def login(self, user: HubUser) -> requests.Session:
        """A browser-like session logged in with the user's password (PAM)."""
        session = requests.Session()
        session.get(self.url + "/hub/login", timeout=30)
        response = session.post(
            self.url + "/hub/login?next=",
            data={"username": user.name, "password": user.password, "_xsrf": session.cookies.get("_xsrf", "")},
            timeout=60,
            allow_redirects=False,
        )
        assert response.status_code == 302, f"PAM login of {user.name} failed: {response.status_code}\n{self.log()[-2000:]}"
        return session


class ServerView:
    """One user's single-user server seen through the hub, shaped like
    ``jupyter_process.JupyterServer`` so the marimo drivers work on it."""

    def __init__(self, hub: Hub, user: HubUser, token: str, name: str = "") -> None:
        self.hub = hub
        self.user = user
        self.token = token
        self.name = name
        self.root_dir = user.home

    @property
    def url(self) -> str:
        return f"{self.hub.url}/user/{self.user.name}/{self.name + '/' if self.name else ''}"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def get(self, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 180)
        return requests.get(self.url + path, headers={**self.auth, **kwargs.pop("headers", {})}, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 180)
        return requests.post(self.url + path, headers={**self.auth, **kwargs.pop("headers", {})}, **kwargs)

    def wait_job(self, job_url: str, timeout: float = 180) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = requests.get(self.hub.url + job_url, params={"wait": 5}, headers=self.auth, timeout=60).json()
            if job["state"] in ("succeeded", "failed", "cancelled"):
                return job
        raise TimeoutError(f"job {job_url} did not finish")

    def write_notebook(self, relative: str, text: str) -> None:
        path = self.root_dir / relative
        path.write_text(text)
        os.chown(path, self.user.uid, self.user.gid)


def launch_facts(user: HubUser) -> list[dict]:
    """The launchers' state files of ``user`` (read as root)."""
    facts = []
    for path in (user.state_dir / "run").glob("launch-*.json"):
        if path.name.startswith("launch-spec-"):
            continue
        try:
            facts.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            pass
    return facts


def new_base() -> Path:
    base = Path(tempfile.mkdtemp(prefix="jmp-hub-", dir="/tmp"))
    base.chmod(0o755)
    return base


if __name__ == "__main__":  # pragma: no cover
    print(missing_prerequisites() or "ready", file=sys.stderr)
