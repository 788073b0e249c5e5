"""The Marimo tile's server side, end to end: a real Jupyter server, real
jupyter-server-proxy, real marimo in a real user venv."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import time

import pytest
import requests
import websockets

from jupyter_process import JupyterServer
from marimo_kernel import run_cell_sync
from processes import all_processes, is_running, processes_mentioning


def launch_facts(server: JupyterServer) -> dict:
    port = server.status()["marimo"]["port"]
    assert port, "marimo is not running"
    facts = json.loads((server.state_dir / "run" / f"launch-{port}.json").read_text())
    facts["secret"] = (server.state_dir / "run" / f"secret-{port}").read_text()
    return facts


def open_tab(server: JupyterServer) -> requests.Response:
    response = server.get("marimo/")
    assert response.status_code == 200, response.text[:2000]
    return response


def test_status_requires_login(jupyter: JupyterServer):
    anonymous = requests.get(jupyter.url + "jupyter-marimo-proxy/status", timeout=30)
    assert anonymous.status_code == 403
    wrong_token = requests.get(
        jupyter.url + "jupyter-marimo-proxy/status", headers={"Authorization": "token nope"}, timeout=30
    )
    assert wrong_token.status_code == 403
    assert jupyter.get("jupyter-marimo-proxy/status").status_code == 200


def test_status_before_first_open_reports_no_venv_and_no_marimo(jupyter: JupyterServer):
    status = jupyter.status()
    assert status["version"]
    assert status["venv"]["path"] == str(jupyter.state_dir / "venv")
    assert status["venv"]["exists"] is False
    assert status["marimo"]["running"] is False
    assert status["marimo"]["url"] == "/marimo/"
    assert status["installer"]["name"] in ("uv", "pip")
    # marimo starts lazily: nothing runs before the first open.
    assert not processes_mentioning(str(jupyter.state_dir / "venv"))


def test_tab_url_serves_marimo_editor_and_creates_venv(jupyter: JupyterServer):
    page = open_tab(jupyter).text
    assert "<marimo-version" in page
    status = jupyter.status()
    assert status["venv"]["exists"] and status["venv"]["healthy"], status["venv"]
    assert status["venv"]["python_version"]
    assert status["marimo"]["running"] is True
    assert status["marimo"]["state"] == "running"
    assert isinstance(status["marimo"]["port"], int)


def test_health_through_proxy(jupyter: JupyterServer):
    open_tab(jupyter)
    response = jupyter.get("marimo/health")
    assert response.status_code == 200
    assert response.json()["status"] == "healthy"


def test_websocket_through_proxy_opens(jupyter: JupyterServer):
    open_tab(jupyter)
    (jupyter.root_dir / "ws_probe.py").write_text("import marimo\napp = marimo.App()\n")
    url = jupyter.url.replace("http://", "ws://") + "marimo/ws?session_id=s_wsprobe&file=ws_probe.py"

    async def first_message() -> dict:
        async with websockets.connect(url, additional_headers=jupyter.auth) as ws:
            return json.loads(await asyncio.wait_for(ws.recv(), 60))

    assert asyncio.run(first_message())["op"] == "kernel-ready"


def test_marimo_runs_on_the_venv_interpreter(jupyter: JupyterServer):
    open_tab(jupyter)
    venv = jupyter.state_dir / "venv"
    facts = launch_facts(jupyter)
    marimo = next(p for p in all_processes() if p.pid == facts["marimo_pid"])
    assert marimo.argv[0] == str(venv / "bin" / "python")
    # Isolated (-I: nothing in the root shadows marimo) and quiet (-q: no banner with the token).
    assert marimo.argv[1:6] == ["-I", "-m", "marimo", "-q", "edit"]
    assert "--headless" in marimo.argv and "127.0.0.1" in marimo.argv
    # Inside marimo's kernel the interpreter is the venv's: what marimo's Install button needs.
    out = run_cell_sync(jupyter, "prefix_probe.py", "import sys; print(sys.prefix); print(sys.prefix != sys.base_prefix)")
    assert out.split() == [str(venv), "True"]


def test_marimo_port_refuses_requests_without_the_secret(jupyter: JupyterServer):
    open_tab(jupyter)
    facts = launch_facts(jupyter)
    direct = f"http://127.0.0.1:{facts['port']}/marimo/"
    refused = requests.get(direct, timeout=30, allow_redirects=False)
    assert refused.status_code != 200 and "<marimo-version" not in refused.text
    assert refused.status_code in (303, 401, 403), refused.status_code  # 303: marimo's login page
    wrong = requests.get(direct, headers={"Authorization": "Bearer wrong"}, timeout=30, allow_redirects=False)
    assert wrong.status_code in (303, 401, 403) and "<marimo-version" not in wrong.text
    # The same request with the secret is served: the refusal above is about the secret.
    accepted = requests.get(
        direct, headers={"Authorization": f"Bearer {facts['secret']}"}, timeout=30, allow_redirects=False
    )
    assert accepted.status_code == 200 and "<marimo-version" in accepted.text
    # marimo listens on loopback only.
    assert listening_addresses(facts["port"]) == {"127.0.0.1"}


def listening_addresses(port: int) -> set[str]:
    """Addresses with a listening TCP socket on ``port``, read from /proc/net."""
    import ipaddress

    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address_hex, port_hex = fields[1].split(":")
            if int(port_hex, 16) != port or fields[3] != "0A":  # 0A: LISTEN
                continue
            raw = bytes.fromhex(address_hex)
            # /proc stores each 32-bit word in host (little-endian) order.
            raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found.add(str(ipaddress.ip_address(raw)))
    return found


def test_secret_is_on_no_command_line_and_never_reaches_the_browser(jupyter: JupyterServer):
    page = open_tab(jupyter)
    facts = launch_facts(jupyter)
    secret = facts["secret"]
    assert len(secret) >= 32
    assert not [p.cmdline for p in all_processes() if secret in p.cmdline]
    # Everything the browser gets from the tab: headers, cookies, body.
    assert secret not in page.text
    assert secret not in json.dumps(dict(page.headers))
    assert secret not in jupyter.get("jupyter-marimo-proxy/status").text
    secret_file = jupyter.state_dir / "run" / f"secret-{facts['port']}"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(secret_file.parent.stat().st_mode) == 0o700


def test_second_open_reuses_the_same_marimo(jupyter: JupyterServer):
    open_tab(jupyter)
    first = launch_facts(jupyter)
    open_tab(jupyter)
    second = launch_facts(jupyter)
    assert first["marimo_pid"] == second["marimo_pid"]
    assert first["secret"] == second["secret"]
    assert len([p for p in all_processes() if p.argv[1:6] == ["-I", "-m", "marimo", "-q", "edit"] and str(jupyter.state_dir) in p.cmdline]) == 1


def test_custom_base_url_end_to_end(jupyter_alice: JupyterServer):
    page = open_tab(jupyter_alice).text
    assert "<marimo-version" in page
    assert jupyter_alice.get("marimo/health").json()["status"] == "healthy"
    status = jupyter_alice.status()
    assert status["marimo"]["url"] == "/user/alice/marimo/"
    marimo = next(p for p in all_processes() if p.pid == launch_facts(jupyter_alice)["marimo_pid"])
    assert marimo.argv[marimo.argv.index("--base-url") + 1] == "/user/alice/marimo"
    # Nothing is served outside the base URL.
    assert requests.get(f"http://127.0.0.1:{jupyter_alice.port}/marimo/", timeout=30).status_code == 404
    out = run_cell_sync(jupyter_alice, "alice_probe.py", "import sys; print(sys.prefix)")
    assert out.strip() == str(jupyter_alice.state_dir / "venv")


def test_jupyter_shutdown_leaves_no_marimo_process(tmp_path):
    server = JupyterServer(root_dir=tmp_path / "root", state_dir=tmp_path / "state").start()
    try:
        open_tab(server)
        marimo_pid = launch_facts(server)["marimo_pid"]
        assert processes_mentioning(str(tmp_path / "state"))
    finally:
        server.stop()
    deadline = time.monotonic() + 15
    while processes_mentioning(str(tmp_path / "state")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not processes_mentioning(str(tmp_path / "state"))
    assert not os.path.exists(f"/proc/{marimo_pid}")


def test_a_failed_start_explains_itself_with_marimos_log(tmp_path):
    # An option marimo does not know makes it exit at once with a usage error.
    server = JupyterServer(
        root_dir=tmp_path / "root",
        state_dir=tmp_path / "state",
        extra_args=["--MarimoProxy.extra_marimo_args=--not-a-backend", "--MarimoProxy.startup_timeout=30"],
    ).start()
    try:
        started = time.monotonic()
        response = server.get("marimo/")
        elapsed = time.monotonic() - started
        assert response.status_code == 503
        assert "marimo could not start" in response.text
        assert "not-a-backend" in response.text  # the tail of marimo's own log
        assert elapsed < 30, "the explanation must come before the start timeout"
        status = server.status()
        assert status["marimo"]["state"] == "failed"
        assert "exited" in status["marimo"]["error"]
        assert "not-a-backend" in status["marimo"]["log_tail"]
    finally:
        server.stop()


def _wait_gone(pids: list[int], timeout: float = 15) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = [pid for pid in pids if is_running(pid)]
        if not alive:
            return []
        time.sleep(0.2)
    return [pid for pid in pids if is_running(pid)]


@pytest.mark.parametrize("killed", ["jupyter", "jupyter-and-launcher"])
def test_hard_kill_of_jupyter_leaves_no_marimo(tmp_path, killed):
    """SIGKILL gives nobody a chance to clean up: an OOM kill, a container stop,
    a process-group kill by a supervisor."""
    import signal

    server = JupyterServer(root_dir=tmp_path / "root", state_dir=tmp_path / "state").start()
    try:
        open_tab(server)
        facts = launch_facts(server)
        victims = [server.proc.pid] + ([facts["launcher_pid"]] if killed == "jupyter-and-launcher" else [])
        for pid in victims:
            os.kill(pid, signal.SIGKILL)
        server.proc.wait()
        assert _wait_gone([facts["marimo_pid"], facts["launcher_pid"]]) == []
        # Its kernels, resource tracker and the launcher's guard follow within seconds.
        deadline = time.monotonic() + 15
        while processes_mentioning(str(tmp_path / "state")) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not processes_mentioning(str(tmp_path / "state"))
    finally:
        server.stop()


def test_unusable_state_dir_is_explained_in_the_tab_and_status(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the state directory should be")
    server = JupyterServer(root_dir=tmp_path / "root", state_dir=blocker / "state").start()
    try:
        status = server.status()
        assert status["venv"]["healthy"] is False
        assert "not writable" in status["venv"]["problems"][0]
        response = server.get("marimo/")
        assert response.status_code == 503
        assert "marimo could not start" in response.text
        assert "state directory" in response.text and str(blocker / "state") in response.text
    finally:
        server.stop()


def test_sse_transport_streams_marimo_events_through_the_proxy(tmp_path):
    """For proxies that break websockets: marimo's server-sent events, through jupyter-server-proxy."""
    from processes import environ_of

    server = JupyterServer(
        root_dir=tmp_path / "root", state_dir=tmp_path / "state", extra_args=["--MarimoProxy.transport=sse"]
    ).start()
    try:
        open_tab(server)
        assert environ_of(launch_facts(server)["marimo_pid"])["MARIMO_SERVER_TRANSPORT"] == "sse"
        (server.root_dir / "sse_probe.py").write_text("import marimo\napp = marimo.App()\n")
        with requests.get(
            server.url + "marimo/sse?session_id=s_sseprobe&file=sse_probe.py",
            headers={**server.auth, "Accept": "text/event-stream"},
            stream=True,
            timeout=30,
        ) as stream:
            assert stream.status_code == 200
            assert stream.headers["Content-Type"].startswith("text/event-stream")
            # The stream never ends; a proxy that buffered it would never give us this line.
            first_data = next(line for line in stream.iter_lines(decode_unicode=True) if line.startswith("data:"))
        assert json.loads(first_data[len("data:"):])["op"] == "kernel-ready"
    finally:
        server.stop()


def test_secret_files_do_not_outlive_their_launch(tmp_path):
    state = tmp_path / "state"
    server = JupyterServer(root_dir=tmp_path / "root", state_dir=state).start()
    try:
        open_tab(server)
        first_port = launch_facts(server)["port"]
    finally:
        server.stop()
    # A stopped launcher removes its secret.
    deadline = time.monotonic() + 15
    while (state / "run" / f"secret-{first_port}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not (state / "run" / f"secret-{first_port}").exists()
    # A launch after a hard kill (the secret left behind) prunes it.
    (state / "run" / "secret-1").write_text("stale")
    (state / "run" / "launch-1.json").write_text(json.dumps({"launcher_pid": 999999999}))
    server = JupyterServer(root_dir=tmp_path / "root", state_dir=state).start()
    try:
        open_tab(server)
        assert sorted(p.name for p in (state / "run").glob("secret-*")) == [f"secret-{launch_facts(server)['port']}"]
    finally:
        server.stop()
