"""Another OS account on the same machine reaches nothing of marimo (security issue #9).

JupyterHub with local users, a lab server: other accounts share the machine and
its loopback. The per-start secret is the only thing between them and marimo,
so every attack here runs as a real, unprivileged second account
(``useradd`` at module setup, ``userdel`` at teardown) through
``/usr/bin/python3``, and checks that it obtains nothing: no file, no port, no
cookie, no process shows it the secret. Each attack is paired with the
legitimate path (the same request with the secret, or through Jupyter with its
login) so that a refusal is about the secret, not about a broken setup.

The Jupyter root and the state dir sit under a world-traversable folder in
/tmp (not pytest's 0700 tmp_path, which would stop every attack for the wrong
reason); the state dir itself is created by the extension, as the default
~/.local/share/jupyter/marimo-proxy is. The servers run with umask 000: the
extension's own files must be private whatever the umask.
"""

from __future__ import annotations

import base64
import json
import os
import pwd
import secrets
import shutil
import signal
import stat
import subprocess
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from jupyter_process import JupyterServer
from processes import environ_of, is_running

API = "jupyter-marimo-proxy/"
INTRUDER_PYTHON = "/usr/bin/python3"  # readable by any account, unlike the project's .venv
LAUNCH_TIME = 60.0
MODULE_STARTED = time.time()

# Every secret seen in this module (as root): none may ever reach the intruder or a log.
SEEN_SECRETS: set[str] = set()


# -- the second account ---------------------------------------------------------


@dataclass
class Intruder:
    name: str
    uid: int
    gid: int

    def run(self, code: str, params: dict | None = None, timeout: float = 120) -> object:
        """Run ``code`` as this account; ``params`` arrive on stdin (never on a command
        line, where ``ps`` would show them); the code calls ``emit(result)``."""
        result = subprocess.run(
            [INTRUDER_PYTHON, "-I", "-c", PRELUDE + textwrap.dedent(code)],
            input=json.dumps(params or {}),
            user=self.uid,
            group=self.gid,
            extra_groups=[],
            cwd="/",
            env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "LANG": "C.UTF-8"},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert result.returncode == 0, f"the intruder's script failed:\n{result.stderr}"
        return json.loads(result.stdout)


PRELUDE = r'''
import base64, http.client, json, os, socket, sys
P = json.loads(sys.stdin.read() or "{}")

def emit(value):
    sys.stdout.write(json.dumps(value))

def fetch(method, port, path, headers=None, body=None, timeout=20):
    """One raw request to 127.0.0.1:port; the answer as plain data."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        if r.status == 101 or r.getheader("Content-Type", "").startswith("text/event-stream"):
            data = r.read1(65536) if r.status != 101 else b""  # an open stream never ends
        else:
            data = r.read(2_000_000)
        return {"status": r.status, "headers": [list(h) for h in r.getheaders()], "body": data.decode("utf-8", "replace")}
    except (OSError, http.client.HTTPException) as error:
        return {"status": None, "headers": [], "body": "", "error": repr(error)}
    finally:
        conn.close()
'''


@pytest.fixture(scope="module")
def intruder() -> Intruder:
    if os.geteuid() != 0:
        pytest.fail(
            "test_other_account needs root: it creates a real second OS account (useradd) to attack marimo "
            "as another local user would. Run this module as root (or in a container as root)."
        )
    if not os.access(INTRUDER_PYTHON, os.X_OK):
        pytest.fail(f"{INTRUDER_PYTHON} is needed to run the attacks as the second account.")
    name = f"jmp-intruder-{secrets.token_hex(3)}"
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group", name],
        check=True,
        capture_output=True,
    )
    try:
        entry = pwd.getpwnam(name)
        yield Intruder(name, entry.pw_uid, entry.pw_gid)
    finally:
        subprocess.run(["userdel", name], capture_output=True)


@pytest.fixture(scope="module")
def shared_base() -> Path:
    """A folder every account can traverse (as /home/<user> or /srv often is)."""
    base = Path(tempfile.mkdtemp(prefix="jmp-other-account-", dir="/tmp"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


def make_server(base: Path, *extra: str) -> JupyterServer:
    base.mkdir(mode=0o755)
    base.chmod(0o755)
    server = JupyterServer(root_dir=base / "root", state_dir=base / "state", umask=0o000, extra_args=list(extra))
    assert not server.state_dir.exists(), "the extension must create its state dir itself"
    server.start()
    (base / "root").chmod(0o755)
    if server.log_path:
        # Jupyter's own log also shows Jupyter's token; in real deployments it is
        # not world-readable. (It is still checked for marimo's secret, as root.)
        server.log_path.chmod(0o600)
    return server


@pytest.fixture(scope="module")
def server(shared_base, intruder) -> JupyterServer:
    # The server-sent-events transport, so that its stream is covered too.
    jupyter = make_server(shared_base / "main", "--MarimoProxy.transport=sse")
    open_tab(jupyter)
    yield jupyter
    jupyter.stop()


# -- the legitimate side (root, or through Jupyter with its login) ---------------


def open_tab(server: JupyterServer) -> requests.Response:
    response = server.get("marimo/")
    assert response.status_code == 200 and "<marimo-version" in response.text, response.text[:2000]
    return response


def launch(server: JupyterServer) -> dict:
    port = server.status()["marimo"]["port"]
    assert port, f"marimo is not running: {server.status()['marimo']}"
    return json.loads((server.state_dir / "run" / f"launch-{port}.json").read_text())


def port_of(server: JupyterServer) -> int:
    return launch(server)["port"]


def current_secret(server: JupyterServer, port: int | None = None) -> str:
    port = port or port_of(server)
    secret_file = server.state_dir / "run" / f"secret-{port}"
    assert secret_file.exists(), f"no secret file at {secret_file}"
    secret = secret_file.read_text().strip()
    assert len(secret) >= 32
    SEEN_SECRETS.add(secret)
    return secret


def direct(port: int, path: str, secret: str | None = None, **kwargs) -> requests.Response:
    """A request straight to marimo's port, as root, with the secret when given."""
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    return requests.get(
        f"http://127.0.0.1:{port}{path}", headers=headers, timeout=30, allow_redirects=False, **kwargs
    )


def wait_until(predicate, timeout: float = LAUNCH_TIME, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except (OSError, ValueError, AssertionError, requests.RequestException):
            value = None
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what}: not met within {timeout:g} s")


def relaunched(server: JupyterServer, old_pid: int) -> dict:
    """Wait for marimo to be running again under a new pid (after a kill)."""

    def check():
        facts = launch(server)
        if server.status()["marimo"]["state"] == "running" and facts.get("marimo_pid") not in (None, old_pid):
            return facts
        return None

    return wait_until(check, what=f"marimo relaunched after pid {old_pid} ended")


# A request built with the previous secret just before a restart may still pass for
# a few seconds (the launcher allows 3); after that the old secret is worthless.
OLD_SECRET_GRACE = 8.0


def old_secret_expires(port: int, old: str) -> None:
    wait_until(
        lambda: direct(port, "/marimo/", old).status_code != 200,
        timeout=OLD_SECRET_GRACE,
        what="the previous secret refused after a new start (a short grace at most)",
    )
    assert direct(port, "/marimo/auth/token", old).status_code != 200


def secret_shaped(text: str) -> list[str]:
    """The secrets seen, or anything that looks like one (marimo's ?access_token= URL)."""
    found = [f"secret {s[:4]}…" for s in SEEN_SECRETS if s in text]
    if "access_token=" in text:
        at = text.index("access_token=")
        found.append("access_token=: " + text[max(0, at - 60) : at + 20] + "…")
    return found


def refused(answer: dict) -> bool:
    """Nothing of marimo was served: an error status, marimo's login form, or an
    event stream that closes at once as unauthorized (marimo's SSE refusal)."""
    status, body = answer["status"], answer["body"]
    if "<marimo-version" in body:
        return False
    if any(name.lower() == "set-cookie" and "marimo" in value for name, value in answer["headers"]):
        return False  # a marimo session cookie is a credential
    if status is None or not (200 <= status < 300 or status == 101):
        return status not in (302, 303, 307) or "login" in dict(answer["headers"]).get("location", "").lower()
    if "MARIMO_UNAUTHORIZED" in body and '"op"' not in body:
        return True
    return answer["request"][1].endswith("/auth/login") and 'type="password"' in body


def let_in(answers: list[dict]) -> list[str]:
    return [describe(a) for a in answers if not refused(a)]


def summary(lines: list[str], limit: int = 8) -> str:
    more = f"\n… and {len(lines) - limit} more" if len(lines) > limit else ""
    return f"{len(lines)} of them:\n" + "\n".join(lines[:limit]) + more


def guesses(server: JupyterServer) -> list[str]:
    return [secrets.token_urlsafe(32), "", "marimo", "null", server.token]


def attempts_without_the_secret(server: JupyterServer, port: int, paths: list[str], old: list[str] = ()) -> list[list]:
    """[method, path, headers, body] for every way in that does not carry the current secret."""
    tries: list[list] = []
    wrong = guesses(server) + list(old)
    for path in paths:
        sep = "&" if "?" in path else "?"
        tries.append(["GET", path, {}, None])
        for guess in wrong:
            tries += [
                ["GET", path, {"Authorization": f"Bearer {guess}"}, None],
                ["GET", path, {"Authorization": f"token {guess}"}, None],
                ["GET", path, {"Authorization": "Basic " + base64.b64encode(f"marimo:{guess}".encode()).decode()}, None],
                ["GET", f"{path}{sep}access_token={guess}", {}, None],
                ["GET", path, {"Cookie": f"session_{port}_marimo={guess}"}, None],
            ]
    return tries


def attack(intruder: Intruder, port: int, tries: list[list]) -> list[dict]:
    answers = intruder.run(
        """
        emit([dict(fetch(m, P["port"], p, h, b), request=[m, p, h]) for m, p, h, b in P["tries"]])
        """,
        {"port": port, "tries": tries},
    )
    return answers


def describe(answer: dict) -> str:
    method, path, headers = answer["request"]
    shown = {k: (v[:40] + "…" if len(v) > 40 else v) for k, v in headers.items()}
    return f"{method} {path[:90]} {shown} -> {answer['status']} {answer['body'][:100]!r}"


# -- the tests --------------------------------------------------------------------


def test_the_intruder_is_another_account_that_can_reach_the_shared_folder(server, intruder, shared_base):
    """The attacks below fail because of the extension, not because the setup stops them."""
    seen = intruder.run(
        """
        emit({"uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups(),
              "listing": sorted(os.listdir(P["root"])), "port_open": fetch("GET", P["port"], "/marimo/health")["status"]})
        """,
        {"root": str(server.root_dir), "port": port_of(server)},
    )
    assert seen["uid"] == intruder.uid != 0 and seen["gid"] == intruder.gid and seen["groups"] == []
    assert isinstance(seen["listing"], list)  # the Jupyter root is readable: the state dir is next door
    assert seen["port_open"] is not None, "the intruder must be able to connect to marimo's port at all"


def test_every_restart_writes_a_fresh_secret(server, intruder):
    port = port_of(server)
    before = current_secret(server)
    response = server.post(API + "restart")
    assert response.status_code == 200, response.text
    after = current_secret(server, port)
    assert after != before, "a restart must give marimo a fresh secret"
    assert direct(port, "/marimo/", after).status_code == 200
    old_secret_expires(port, before)
    open_tab(server)  # the proxy follows the new secret


def test_a_crash_relaunch_writes_a_fresh_secret(server, intruder):
    facts = launch(server)
    before = current_secret(server)
    os.kill(facts["marimo_pid"], signal.SIGKILL)
    relaunched(server, facts["marimo_pid"])
    after = current_secret(server, facts["port"])
    assert after != before, "marimo relaunched after a crash must get a fresh secret"
    assert direct(facts["port"], "/marimo/", after).status_code == 200
    old_secret_expires(facts["port"], before)
    open_tab(server)


def test_state_dir_is_private_whatever_the_umask(server):
    """Everything the extension creates under its state dir: folders 0700, files 0600
    (the venv aside: its programs must be executable; it sits inside the 0700 state dir)."""
    current_secret(server)
    state = server.state_dir
    assert stat.S_IMODE(state.stat().st_mode) == 0o700, oct(state.stat().st_mode)
    wrong = []
    for folder, dirs, files in os.walk(state):
        if Path(folder) == state:
            dirs[:] = [d for d in dirs if d != "venv"]
        for name in dirs + files:
            path = Path(folder) / name
            try:
                info = path.lstat()
            except FileNotFoundError:
                continue  # a state file being replaced
            if stat.S_ISLNK(info.st_mode):
                continue
            expected = 0o700 if stat.S_ISDIR(info.st_mode) else 0o600
            if stat.S_IMODE(info.st_mode) != expected:
                wrong.append(f"{path.relative_to(state)}: {oct(stat.S_IMODE(info.st_mode))}, expected {oct(expected)}")
    assert not wrong, "\n".join(wrong)
    secret_file = state / "run" / f"secret-{port_of(server)}"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(secret_file.parent.stat().st_mode) == 0o700


def test_no_file_the_intruder_can_read_holds_the_secret(server, intruder, shared_base):
    secret = current_secret(server)
    port = port_of(server)
    # A file anyone may read, in the shared folder: proof that the scan reads what it can.
    control = shared_base / "readable-control.txt"
    control.write_text("nothing secret here\n")
    control.chmod(0o644)
    found = intruder.run(
        """
        import time
        secrets_ = P["secrets"]
        hits, denied, read, done = [], [], 0, set()

        def check(path):
            global read
            if path in done:
                return
            done.add(path)
            try:
                with open(path, "rb") as handle:
                    data = handle.read(5_000_000)
            except OSError as error:
                denied.append([path, type(error).__name__])
                return
            read += 1
            text = data.decode("utf-8", "replace")
            for s in secrets_:
                if s in text:
                    hits.append([path, "the secret"])
            # Secret-shaped text counts only in our own folders: other sessions share /tmp.
            if "access_token=" in text and path.startswith(P["base"] + "/"):
                hits.append([path, "access_token="])

        def walk(top, recent_only=False):
            budget = time.monotonic() + 20
            for folder, dirs, files in os.walk(top, onerror=lambda e: denied.append([e.filename, type(e).__name__])):
                if recent_only and time.monotonic() > budget:
                    break
                for name in files:
                    path = os.path.join(folder, name)
                    try:
                        info = os.lstat(path)
                    except OSError:
                        continue
                    if recent_only and info.st_mtime < P["since"]:
                        continue
                    if os.path.isfile(path):
                        check(path)

        walk(P["base"])
        for top in ("/tmp", "/dev/shm", "/var/tmp"):
            walk(top, recent_only=True)
        try:
            os.listdir(P["state"])
            state_listed = True
        except OSError:
            state_listed = False
        try:
            open(P["secret_file"]).read()
            secret_read = True
        except OSError:
            secret_read = False
        emit({"hits": hits, "denied": denied, "read": read, "state_listed": state_listed, "secret_read": secret_read})
        """,
        {
            "secrets": sorted(SEEN_SECRETS),
            "base": str(shared_base),
            "state": str(server.state_dir),
            "secret_file": str(server.state_dir / "run" / f"secret-{port}"),
            "since": MODULE_STARTED - 5,
        },
    )
    assert not found["hits"], "the intruder read secrets from files:\n" + "\n".join(map(str, found["hits"]))
    assert not found["secret_read"], "the intruder can read the secret file"
    assert not found["state_listed"], "the intruder can list the state dir (it must be 0700)"
    assert found["read"] > 0, "the intruder read no file at all: the scan proves nothing"
    # The legitimate path: the file's owner reads it and it opens marimo.
    assert direct(port, "/marimo/", secret).status_code == 200


MARIMO_PATHS = [
    "/marimo/",
    "/marimo/?file=probe.py",
    "/marimo/auth/token",
    "/marimo/api/status",
    "/marimo/api/sessions",
    "/marimo/api/environment",
    "/marimo/sse?session_id=s_intruder&file=probe.py",
    "/",
]


def test_marimos_port_refuses_the_intruder(server, intruder):
    (server.root_dir / "probe.py").write_text("import marimo\napp = marimo.App()\n")
    port = port_of(server)
    secret = current_secret(server)
    old = sorted(SEEN_SECRETS - {secret})
    tries = attempts_without_the_secret(server, port, MARIMO_PATHS, old)
    websocket = {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
    }
    tries.append(["GET", "/marimo/ws?session_id=s_intruder&file=probe.py", websocket, None])
    tries.append(["POST", "/marimo/auth/login", {"Content-Type": "application/x-www-form-urlencoded"}, f"password={secrets.token_urlsafe(32)}"])
    tries.append(["POST", "/marimo/api/kernel/run", {"Content-Type": "application/json"}, json.dumps({"cellIds": ["a"], "codes": ["1"]})])
    answers = attack(intruder, port, tries)
    entered = let_in(answers)
    assert not entered, "marimo's port let the intruder in, " + summary(entered)
    leaks = [describe(a) for a in answers if secret_shaped(a["body"] + json.dumps(a["headers"]))]
    assert not leaks, "answers to the intruder carry the secret, " + summary(leaks)
    # The legitimate path: the same requests with the current secret are served.
    assert direct(port, "/marimo/", secret).text.count("<marimo-version") == 1
    assert direct(port, "/marimo/auth/token", secret).status_code == 200
    assert direct(port, "/marimo/api/status", secret).status_code == 200


def proxied_responses(server: JupyterServer, session: requests.Session) -> dict[str, requests.Response]:
    """What the legitimate browser gets through Jupyter: page, health, API calls, the SSE stream."""
    (server.root_dir / "cookie_probe.py").write_text("import marimo\napp = marimo.App()\n")
    url = server.url
    got = {
        "page": session.get(url + "marimo/", timeout=60),
        "page-with-file": session.get(url + "marimo/?file=cookie_probe.py", timeout=60),
        "health": session.get(url + "marimo/health", timeout=60),
        "api-status": session.get(url + "marimo/api/status", timeout=60),
        "api-post": session.post(url + "marimo/api/home/running_notebooks", timeout=60),
        "auth-token": session.get(url + "marimo/auth/token", timeout=60),
        "not-found": session.get(url + "marimo/no-such-page", timeout=60),
    }
    with session.get(
        url + "marimo/sse?session_id=s_x&file=cookie_probe.py",
        headers={"Accept": "text/event-stream"},
        stream=True,
        timeout=60,
    ) as stream:
        got["sse"] = stream
        if stream.status_code == 200:
            next(line for line in stream.iter_lines(decode_unicode=True) if line.startswith("data:"))
    assert got["page"].status_code == 200 and "<marimo-version" in got["page"].text
    assert got["sse"].status_code == 200, "the SSE stream must work through the proxy (legitimate path)"
    return got


JUPYTER_COOKIES = ("_xsrf", "username-")  # Jupyter's own cookies, not marimo's


def marimo_set_cookies(response: requests.Response) -> list[str]:
    values = response.raw.headers.getlist("Set-Cookie") if response.raw is not None else []
    return [v for v in values if not v.split("=", 1)[0].strip().startswith(JUPYTER_COOKIES)]


def test_no_cookie_from_marimo_reaches_the_browser(server):
    with requests.Session() as session:
        session.headers.update(server.auth)
        got = proxied_responses(server, session)
    leaked = {name: marimo_set_cookies(r) for name, r in got.items() if marimo_set_cookies(r)}
    assert not leaked, "marimo's Set-Cookie reached the client through the proxy:\n" + "\n".join(
        f"{name}: {cookies}" for name, cookies in leaked.items()
    )


def test_auth_token_is_not_served_through_the_proxy(server):
    secret = current_secret(server)
    response = server.get("marimo/auth/token")
    assert response.status_code == 404, (response.status_code, response.text[:200])
    assert secret not in response.text
    import http.client

    gave = []
    for path in ["marimo/auth/token/", "marimo//auth/token", "marimo/auth/token?x=1", "marimo/./auth/token",
                 "marimo/api/../auth/token", "marimo/auth/%74oken", "marimo/auth//token", "marimo///auth/token",
                 "marimo/%2Fauth/token", "marimo/auth/token%2F", "marimo/auth/token#x"]:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        try:
            conn.request("GET", server.base_url + path, headers=server.auth)
            answer = conn.getresponse()
            body = answer.read().decode("utf-8", "replace")
        finally:
            conn.close()
        if secret_shaped(body + str(answer.getheaders())):
            gave.append(f"{path} -> {answer.status}")
    assert not gave, f"these spellings of auth/token give the secret through the proxy: {gave}"
    # The legitimate path: marimo itself still answers through the proxy.
    assert server.get("marimo/health").json()["status"] == "healthy"


def test_cookies_obtained_through_the_proxy_open_nothing_on_marimos_port(server, intruder):
    with requests.Session() as session:
        session.headers.update(server.auth)
        got = proxied_responses(server, session)
        jar = {cookie.name: cookie.value for cookie in session.cookies}
    for response in got.values():
        for value in response.raw.headers.getlist("Set-Cookie"):
            name, _, rest = value.partition("=")
            jar.setdefault(name.strip(), rest.split(";", 1)[0].strip().strip('"'))
    port = port_of(server)
    cookie_header = "; ".join(f"{k}={v}" for k, v in jar.items())
    tries = [["GET", path, {"Cookie": cookie_header}, None] for path in MARIMO_PATHS]
    tries += [["GET", path, {"Cookie": f"{k}={v}"}, None] for k, v in jar.items() for path in ("/marimo/", "/marimo/auth/token")]
    answers = attack(intruder, port, tries)
    entered = let_in(answers)
    assert not entered, f"cookies from the proxy ({sorted(jar)}) open marimo's port, " + summary(entered)
    # The legitimate path: the same requests with the secret are served.
    assert direct(port, "/marimo/", current_secret(server)).status_code == 200


def test_the_secret_is_in_no_answer_and_no_log(server):
    secret = current_secret(server)
    page = open_tab(server)
    checked = {
        "status": server.get(API + "status").text,
        "page": page.text,
        "page headers": json.dumps(dict(page.headers)),
        "health": server.get("marimo/health").text,
    }
    for log in sorted((server.state_dir / "logs").glob("*")):
        checked[f"log {log.name}"] = log.read_text(errors="replace")
    checked["jupyter's log"] = server.log()
    assert any(name.startswith("log marimo") for name in checked), f"no marimo log under {server.state_dir / 'logs'}"
    leaks = {name: secret_shaped(text) for name, text in checked.items() if secret_shaped(text)}
    assert not leaks, f"the secret (or an access_token= URL) appears in: {leaks}"
    assert secret in (server.state_dir / "run" / f"secret-{port_of(server)}").read_text()


def test_processes_show_the_intruder_no_secret(server, intruder):
    secret = current_secret(server)
    facts = launch(server)
    seen = intruder.run(
        """
        found = []
        for name in os.listdir("/proc"):
            if not name.isdigit() or int(name) == os.getpid():
                continue
            try:
                with open(f"/proc/{name}/cmdline", "rb") as handle:
                    cmdline = handle.read().replace(b"\\0", b" ").decode("utf-8", "replace")
            except OSError:
                continue
            if not any(marker in cmdline for marker in P["markers"]):
                continue
            entry = {"pid": int(name), "cmdline": cmdline}
            try:
                with open(f"/proc/{name}/environ", "rb") as handle:
                    entry["environ"] = handle.read().decode("utf-8", "replace")
            except OSError as error:
                entry["environ_error"] = type(error).__name__
            found.append(entry)
        emit(found)
        """,
        {"markers": [str(server.state_dir), "marimo", "jupyter"]},
    )
    pids = {entry["pid"] for entry in seen}
    assert facts["marimo_pid"] in pids and facts["launcher_pid"] in pids, (
        "the intruder must see marimo and its launcher in /proc, or this check proves nothing"
    )
    ours = [str(server.state_dir), str(server.root_dir)]

    def leaks(entry: dict, text: str) -> bool:
        # Other sessions' processes share the machine: only our secrets count for them.
        if any(s in text for s in SEEN_SECRETS):
            return True
        return any(o in entry["cmdline"] for o in ours) and "access_token=" in text

    on_cmdline = [e["cmdline"][:200] for e in seen if leaks(e, e["cmdline"])]
    assert not on_cmdline, f"the secret is on a command line: {on_cmdline}"
    in_environ = [e["cmdline"][:200] for e in seen if leaks(e, e.get("environ", ""))]
    assert not in_environ, f"the intruder reads the secret in the environment of: {in_environ}"
    # As root, too: the secret reaches marimo through its file, not its environment.
    for pid in (facts["marimo_pid"], facts["launcher_pid"]):
        assert secret not in json.dumps(environ_of(pid)), f"the secret is in the environment of pid {pid}"


def intruder_gets_a_bare_401(intruder: Intruder, server: JupyterServer, port: int) -> None:
    # (Secrets of earlier starts are not tried here: they may be in their short grace.)
    tries = attempts_without_the_secret(server, port, ["/marimo/", "/marimo/health", "/"])
    answers = attack(intruder, port, tries)
    wrong = [describe(a) for a in answers if a["status"] != 401 or a["body"] != ""]
    assert not wrong, "the launcher's page must answer a bare 401 to requests without the secret; " + summary(wrong)


def test_after_a_crash_loop_the_failure_page_answers_only_the_secret(shared_base, intruder):
    server = make_server(shared_base / "crash")
    try:
        open_tab(server)
        port = port_of(server)
        starts: list[str] = []
        facts = launch(server)
        first_kill = time.monotonic()
        for kill in range(1, 5):
            starts.append(current_secret(server, port))
            os.kill(facts["marimo_pid"], signal.SIGKILL)
            if kill < 4:
                facts = relaunched(server, facts["marimo_pid"])
        wait_until(
            lambda: launch(server)["state"] == "failed",
            what=f"the failure page after 4 exits in {time.monotonic() - first_kill:.0f} s (a crash loop is 4 in 60 s)",
        )
        current_secret(server, port)  # known to secret_shaped below
        intruder_gets_a_bare_401(intruder, server, port)
        # The legitimate path: through Jupyter the user sees the explanation (the intruder's
        # requests did not use it up), and it holds neither the secret nor an access_token URL.
        page = server.get("marimo/")
        assert page.status_code == 503 and "marimo could not start" in page.text, (page.status_code, page.text[:500])
        assert not secret_shaped(page.text), secret_shaped(page.text)
        status = server.get(API + "status").text
        assert not secret_shaped(status), secret_shaped(status)
        assert len(set(starts)) == 4, "each relaunch in the crash loop must write a fresh secret"
    finally:
        server.stop()


def test_the_waking_page_answers_only_the_secret(shared_base, intruder):
    server = make_server(shared_base / "idle", "--MarimoProxy.idle_timeout=3")
    try:
        open_tab(server)
        port = port_of(server)
        current_secret(server, port)
        pid = launch(server)["marimo_pid"]
        wait_until(lambda: not is_running(pid), timeout=120, what="marimo stopping when idle")
        wait_until(lambda: launch(server)["state"] == "idle", what="the launcher waiting for a visitor")
        if (server.state_dir / "run" / f"secret-{port}").exists():
            current_secret(server, port)
        intruder_gets_a_bare_401(intruder, server, port)
        time.sleep(1.0)
        assert launch(server)["state"] == "idle", "a request without the secret woke marimo"
        # The legitimate path: through Jupyter the waking page (or marimo) answers, then marimo.
        woken = server.get("marimo/")
        assert woken.status_code in (200, 503), woken.status_code
        assert not secret_shaped(woken.text)
        wait_until(lambda: server.get("marimo/", timeout=10).status_code == 200, what="marimo back after waking")
    finally:
        server.stop()
