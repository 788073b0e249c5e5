"""Never stuck, never lost: real processes, real signals, real venvs."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from jupyter_process import JupyterServer
from marimo_kernel import KernelSession
from processes import all_processes, is_running
from slow_index import SLOW_PACKAGE

API = "jupyter-marimo-proxy/"
LAUNCH_TIME = 30.0  # generous: one normal launch is ~3 s here


def make_server(base: Path, wheelhouse: Path, *extra: str) -> JupyterServer:
    return JupyterServer(
        root_dir=base / "root",
        state_dir=base / "state",
        extra_args=[f"--MarimoProxy.find_links={wheelhouse}", "--MarimoProxy.no_index=True", *extra],
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory, wheelhouse, slow_index):
    jupyter = make_server(
        tmp_path_factory.mktemp("sup"), wheelhouse, f"--MarimoProxy.find_links={slow_index.url}"
    ).start()
    yield jupyter
    jupyter.stop()


def launch(server: JupyterServer) -> dict:
    port = server.status()["marimo"]["port"]
    return json.loads((server.state_dir / "run" / f"launch-{port}.json").read_text())


def wait_until(predicate, timeout: float = LAUNCH_TIME, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def group_members(pgid: int) -> list[int]:
    members = []
    for p in all_processes():
        try:
            if os.getpgid(p.pid) == pgid and is_running(p.pid):
                members.append(p.pid)
        except ProcessLookupError:
            pass
    return members


def opens(server: JupyterServer) -> bool:
    try:
        response = server.get("marimo/", timeout=10)
    except requests.RequestException:
        return False
    return response.status_code == 200 and "<marimo-version" in response.text


def install(server: JupyterServer, *specs: str) -> dict:
    response = server.post(API + "packages", json={"specs": list(specs)})
    assert response.status_code == 202, response.text
    return server.wait_job(response.headers["Location"])


def importable(server: JupyterServer, module: str) -> bool:
    python = server.state_dir / "venv" / "bin" / "python"
    return subprocess.run([str(python), "-c", f"import {module}"], capture_output=True).returncode == 0


@pytest.mark.parametrize("how", ["kill -9", "clean exit"])
def test_marimo_comes_back_after_it_ends(server, how):
    assert opens(server)
    old = launch(server)["marimo_pid"]
    if how == "kill -9":
        os.kill(old, signal.SIGKILL)
    else:
        # SIGINT is marimo's own "shut down" (Ctrl-C): it exits on its own terms.
        os.kill(old, signal.SIGINT)
    started = time.monotonic()
    wait_until(lambda: not is_running(old))
    wait_until(lambda: opens(server))
    print(f"back after {how} in {time.monotonic() - started:.1f}s")
    new = wait_until(lambda: (facts := launch(server))["state"] == "running" and facts)
    assert new["marimo_pid"] != old


def test_restart_ends_the_whole_process_group(server):
    assert opens(server)

    async def start_a_kernel():
        async with KernelSession(server, "group.py") as kernel:
            await kernel.run("x = 1")
            return group_members(launch(server)["marimo_pid"])

    members = asyncio.run(start_a_kernel())
    old = launch(server)["marimo_pid"]
    assert len(members) >= 2, "expected marimo and its kernel in marimo's process group"
    response = server.post(API + "restart")
    assert response.status_code == 200
    assert [pid for pid in members if is_running(pid)] == []
    assert group_members(old) == []
    assert opens(server)


def test_kill_9_of_an_install_in_flight_loses_nothing(server, slow_index):
    assert install(server, "jmp-alpha")["state"] == "succeeded"
    manifest_before = json.loads((server.state_dir / "manifest.json").read_text())
    slow_index.requested.clear()
    response = server.post(API + "packages", json={"specs": [SLOW_PACKAGE]})
    assert slow_index.requested.wait(60)
    installer = wait_until(
        lambda: [p for p in all_processes() if "install" in p.argv and SLOW_PACKAGE in p.argv and "--python" in p.argv]
    )
    os.kill(installer[0].pid, signal.SIGKILL)
    job = server.wait_job(response.headers["Location"])
    assert job["state"] == "failed"
    assert job["message"]
    assert importable(server, "jmp_alpha")
    assert json.loads((server.state_dir / "manifest.json").read_text())["requested"] == manifest_before["requested"]
    assert install(server, "jmp-bravo")["state"] == "succeeded"


def break_interpreter(venv: Path) -> None:
    (venv / "bin" / "python").unlink()


def break_python_version(venv: Path) -> None:
    cfg = venv / "pyvenv.cfg"
    cfg.write_text(cfg.read_text().replace(f"version = {sys.version_info[0]}.{sys.version_info[1]}", "version = 3.7"))


def break_marimo(venv: Path) -> None:
    # marimo reaches the venv through this .pth; without it marimo is not importable.
    for pth in venv.glob("lib/python*/site-packages/_jupyter_marimo_proxy_base_env.pth"):
        pth.unlink()


@pytest.mark.parametrize(
    "damage, symptom",
    [
        (break_interpreter, "interpreter"),
        (break_python_version, "built for Python 3.7"),
        (break_marimo, "marimo is not importable"),
    ],
    ids=["interpreter-deleted", "python-version-changed", "marimo-deleted"],
)
def test_broken_venv_is_reported_and_repair_reinstalls_the_manifest(tmp_path, wheelhouse, damage, symptom):
    server = make_server(tmp_path, wheelhouse).start()
    try:
        assert install(server, "jmp-withdep", "jmp-charlie")["state"] == "succeeded"
        damage(server.state_dir / "venv")
        status = server.status()
        assert status["venv"]["healthy"] is False
        assert any(symptom in problem for problem in status["venv"]["problems"]), status["venv"]["problems"]
        response = server.post(API + "repair")
        assert response.status_code == 202
        job = server.wait_job(response.headers["Location"])
        assert job["state"] == "succeeded", job["log"]
        assert server.status()["venv"]["healthy"] is True
        for module in ("jmp_withdep", "jmp_leaf", "jmp_charlie"):
            assert importable(server, module), module
    finally:
        server.stop()


def test_opening_marimo_on_a_broken_venv_rebuilds_it_and_reinstalls_in_the_background(tmp_path, wheelhouse):
    server = make_server(tmp_path, wheelhouse).start()
    try:
        assert install(server, "jmp-delta")["state"] == "succeeded"
        break_interpreter(server.state_dir / "venv")
        assert opens(server)  # marimo starts on the rebuilt venv at once
        repairs = wait_until(lambda: [j for j in server.get(API + "jobs").json() if j["kind"] == "repair"])
        job = server.wait_job(f"/{API}jobs/{repairs[0]['id']}")
        assert job["state"] == "succeeded", job["log"]
        assert importable(server, "jmp_delta")
    finally:
        server.stop()


def test_packages_survive_a_jupyter_restart(tmp_path, wheelhouse):
    server = make_server(tmp_path, wheelhouse).start()
    try:
        assert install(server, "jmp-echo", "jmp-withdep")["state"] == "succeeded"
        assert opens(server)
    finally:
        server.stop()
    again = make_server(tmp_path, wheelhouse).start()
    try:
        listed = {p["name"] for p in again.get(API + "packages").json() if p["source"] == "user"}
        assert {"jmp-echo", "jmp-withdep", "jmp-leaf"} <= listed
        assert opens(again)
        assert not [j for j in again.get(API + "jobs").json() if j["kind"] == "repair"]
        from marimo_kernel import run_cell_sync

        assert run_cell_sync(again, "persist.py", "import jmp_echo; print(jmp_echo.VALUE)").strip() == "jmp-echo-1.0"
    finally:
        again.stop()


def test_bootstrap_runs_in_the_background_and_marimo_opens_meanwhile(tmp_path, wheelhouse, slow_index):
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "requirements.txt").write_text(f"jmp-alpha\n{SLOW_PACKAGE}\n")
    slow_index.requested.clear()
    server = make_server(
        tmp_path, wheelhouse, f"--MarimoProxy.find_links={slow_index.url}", "--MarimoProxy.requirements=requirements.txt"
    ).start()
    try:
        jobs = wait_until(lambda: [j for j in server.get(API + "jobs").json() if j["kind"] == "bootstrap"])
        assert slow_index.requested.wait(60), "the bootstrap never reached the slow wheel"
        started = time.monotonic()
        assert opens(server)
        print(f"marimo opened in {time.monotonic() - started:.1f}s during the bootstrap")
        job = server.get(f"{API}jobs/{jobs[0]['id']}").json()
        assert job["state"] == "running", "the bootstrap must still be running while marimo answers"
        slow_index.released.set()
        finished = server.wait_job(f"/{API}jobs/{jobs[0]['id']}")
        assert finished["state"] == "succeeded", finished["log"]
        assert importable(server, "jmp_slow") and importable(server, "jmp_alpha")
    finally:
        slow_index.released.clear()
        server.stop()


def test_idle_marimo_stops_and_the_next_open_starts_it(tmp_path, wheelhouse):
    server = make_server(tmp_path, wheelhouse, "--MarimoProxy.idle_timeout=3").start()
    try:
        assert opens(server)
        first = launch(server)["marimo_pid"]
        wait_until(lambda: not is_running(first), timeout=60)
        assert wait_until(lambda: launch(server)["state"] == "idle")
        assert server.status()["marimo"]["running"] is False
        # The first request after idling waits while marimo starts again, then gets marimo.
        assert opens(server)
        assert launch(server)["marimo_pid"] not in (None, first)
    finally:
        server.stop()


def test_start_slower_than_the_timeout_is_explained(tmp_path, wheelhouse):
    server = make_server(tmp_path, wheelhouse, "--MarimoProxy.startup_timeout=0.3").start()
    try:
        response = server.get("marimo/")
        assert response.status_code == 503
        assert "did not answer within 0.3 seconds" in response.text
        assert server.status()["marimo"]["state"] == "failed"
        assert not [p for p in all_processes() if str(server.state_dir / "venv") in p.cmdline]
    finally:
        server.stop()


def doctor(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jupyter_marimo_proxy", "doctor"], capture_output=True, text=True, env={**os.environ, **env}
    )


def test_doctor_is_happy_on_a_healthy_setup(tmp_path, wheelhouse):
    server = make_server(tmp_path, wheelhouse).start()
    try:
        assert opens(server)
    finally:
        server.stop()
    result = doctor({"JUPYTER_MARIMO_PROXY_STATE_DIR": str(tmp_path / "state")})
    assert result.returncode == 0, result.stdout
    assert "No problems found." in result.stdout
    assert "healthy" in result.stdout and "marimo" in result.stdout


def test_doctor_names_each_problem(tmp_path):
    from jupyter_marimo_proxy.venv import create_venv

    state = tmp_path / "state"
    create_venv(state / "venv", sys.executable)
    break_interpreter(state / "venv")
    result = doctor({"JUPYTER_MARIMO_PROXY_STATE_DIR": str(state)})
    assert result.returncode == 1
    assert "interpreter" in result.stdout and "Repair" in result.stdout

    blocker = tmp_path / "file"
    blocker.write_text("")
    result = doctor({"JUPYTER_MARIMO_PROXY_STATE_DIR": str(blocker / "state")})
    assert result.returncode == 1 and "not writable" in result.stdout

    config = tmp_path / "config"
    (config / "jupyter_server_config.d").mkdir(parents=True)
    (config / "jupyter_server_config.d" / "off.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": {"jupyter_marimo_proxy": False}}})
    )
    # The user config dir must rank first, as outside a venv (jupyter_core prefers the env otherwise).
    result = doctor(
        {
            "JUPYTER_CONFIG_DIR": str(config),
            "JUPYTER_PREFER_ENV_PATH": "0",
            "JUPYTER_MARIMO_PROXY_STATE_DIR": str(tmp_path / "ok"),
        }
    )
    assert result.returncode == 1
    assert "jupyter server extension enable jupyter_marimo_proxy" in result.stdout


FAULT = "uvicorn is unusable: a broken copy shadows the real one"


def shadow_uvicorn(server: JupyterServer) -> Path:
    """A real fault: a module in the venv that shadows marimo's server and fails to
    import. `import marimo` still works; `marimo edit` exits with code 1."""
    (site,) = (server.state_dir / "venv" / "lib").glob("python*/site-packages")
    shadow = site / "uvicorn.py"
    shadow.write_text(f"raise ImportError({FAULT!r})\n")
    return shadow


def test_restart_after_a_failed_start_tries_again_and_the_failure_ends_with_it(tmp_path, wheelhouse):
    server = make_server(tmp_path, wheelhouse).start()
    try:
        assert opens(server)
        shadow = shadow_uvicorn(server)

        # Restart with the fault: it ends, with marimo's reason and log.
        response = server.post(API + "restart", timeout=90)
        assert response.status_code == 500
        failed = response.json()
        assert failed["state"] == "failed"
        assert failed["error"] == "marimo exited with code 1 while starting."
        assert FAULT in failed["log_tail"]
        assert server.status()["marimo"]["state"] == "failed"

        # Restart again after the failure: a retry (not "marimo is not running"),
        # and the reason again.
        before = launch(server)["start"]
        response = server.post(API + "restart", timeout=90)
        assert response.status_code == 500, response.text
        assert response.json()["error"] == "marimo exited with code 1 while starting."
        assert launch(server)["start"] > before

        # A start already under way when the restart is asked (a request to the
        # failed marimo asks for one): the restart answers with its own start's
        # outcome, after that one, instead of waiting out its deadline.
        assert server.get("marimo/", timeout=30).status_code == 503  # the failure page, once
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(server.get, "marimo/", timeout=90)
            under_way = wait_until(lambda: (facts := launch(server))["state"] == "starting" and facts)
            response = server.post(API + "restart", timeout=90)
            assert response.status_code == 500, response.text
            assert launch(server)["start"] > under_way["start"]
            pending.result()

        # The fault gone, a restart brings marimo back and the failure is over.
        shadow.unlink()
        response = server.post(API + "restart", timeout=90)
        assert response.status_code == 200, response.text
        marimo = server.status()["marimo"]
        assert (marimo["state"], marimo["running"], marimo["error"], marimo["log_tail"]) == ("running", True, None, None)
        assert opens(server)
    finally:
        server.stop()
