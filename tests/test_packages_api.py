"""The "Install package" API against a real Jupyter, the real installers and a real venv.

Packages come from wheels built by the fixtures (``--no-index --find-links``);
no test needs a package index.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import threading
import time

import pytest
import requests

from jupyter_process import JupyterServer
from marimo_kernel import KernelSession, run_cell_sync
from processes import is_running
from slow_index import SLOW_PACKAGE
from wheels import FIVE

API = "jupyter-marimo-proxy/"


@pytest.fixture(scope="module")
def server(tmp_path_factory, wheelhouse, slow_index):
    base = tmp_path_factory.mktemp("pkgs")
    jupyter = JupyterServer(
        root_dir=base / "root",
        state_dir=base / "state",
        extra_args=[
            f"--MarimoProxy.find_links={wheelhouse}",
            f"--MarimoProxy.find_links={slow_index.url}",
            "--MarimoProxy.no_index=True",
        ],
    ).start()
    yield jupyter
    jupyter.stop()


def install(server: JupyterServer, *specs: str) -> dict:
    response = server.post(API + "packages", json={"specs": list(specs)})
    assert response.status_code == 202, response.text
    assert response.headers["Location"] == f"/{API}jobs/{response.json()['id']}"
    return server.wait_job(response.headers["Location"])


def user_packages(server: JupyterServer) -> dict[str, str]:
    listing = server.get(API + "packages").json()
    return {p["name"]: p["version"] for p in listing if p["source"] == "user"}


def manifest(server: JupyterServer) -> dict:
    path = server.state_dir / "manifest.json"
    if not path.exists():  # nothing installed yet
        return {"requested": [], "installed": {}}
    return json.loads(path.read_text())


def venv_import(server: JupyterServer, module: str) -> str:
    python = server.state_dir / "venv" / "bin" / "python"
    out = subprocess.run([str(python), "-c", f"import {module}; print({module}.VALUE)"], capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else "ImportError"


def test_install_lists_and_records_a_package(server):
    job = install(server, "jmp-fixture==1.0")
    assert job["state"] == "succeeded", job["log"]
    assert job["exit_code"] == 0
    assert "jmp-fixture 1.0" in job["message"]
    assert any("jmp-fixture" in line for line in job["log"])
    assert user_packages(server)["jmp-fixture"] == "1.0"
    assert venv_import(server, "jmp_fixture") == "jmp-fixture-1.0"
    recorded = manifest(server)
    assert "jmp-fixture==1.0" in recorded["requested"]
    assert recorded["installed"]["jmp-fixture"] == "1.0"


def test_listing_separates_user_packages_from_the_base_environment(server):
    install(server, "jmp-withdep")
    listing = server.get(API + "packages").json()
    sources = {p["name"]: p["source"] for p in listing}
    assert sources["jmp-withdep"] == "user" and sources["jmp-leaf"] == "user"
    assert sources["marimo"] == "base"
    assert sources["jupyter-server"] == "base"
    assert all({"name", "version", "source"} <= set(p) for p in listing)
    # What the user asked for, apart from what came with it.
    user = {p["name"]: p for p in listing if p["source"] == "user"}
    assert user["jmp-withdep"]["origin"] == "requested"
    assert user["jmp-leaf"]["origin"] == "dependency" and user["jmp-leaf"]["required_by"] == ["jmp-withdep"]


def test_a_newer_request_replaces_the_older_one_in_the_manifest(server):
    install(server, "jmp-fixture==2.0")
    recorded = manifest(server)
    assert "jmp-fixture==2.0" in recorded["requested"]
    assert "jmp-fixture==1.0" not in recorded["requested"]
    assert recorded["installed"]["jmp-fixture"] == "2.0"


def test_uninstall_is_a_job_and_updates_list_and_manifest(server):
    install(server, "jmp-alpha")
    response = server.delete(API + "packages/jmp-alpha")
    assert response.status_code == 202, response.text
    job = server.wait_job(response.headers["Location"])
    assert job["state"] == "succeeded", job["log"]
    assert job["kind"] == "uninstall"
    assert "jmp-alpha" not in user_packages(server)
    assert venv_import(server, "jmp_alpha") == "ImportError"
    recorded = manifest(server)
    assert not [s for s in recorded["requested"] if s.startswith("jmp-alpha")]
    assert "jmp-alpha" not in recorded["installed"]


def test_uninstalling_a_base_package_is_refused(server):
    response = server.delete(API + "packages/marimo")
    assert response.status_code == 404
    assert "base environment" in response.json()["message"]


def test_five_concurrent_installs_run_one_at_a_time_and_all_succeed(server):
    responses: list[requests.Response] = []

    def submit(name: str) -> None:
        responses.append(server.post(API + "packages", json={"specs": [name]}))

    threads = [threading.Thread(target=submit, args=(name,)) for name in FIVE]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in responses] == [202] * 5
    jobs = [server.wait_job(r.headers["Location"]) for r in responses]
    assert [j["state"] for j in jobs] == ["succeeded"] * 5, [j["message"] for j in jobs]
    spans = sorted((j["started"], j["finished"]) for j in jobs)
    for (_, end), (next_start, _) in zip(spans, spans[1:]):
        assert next_start >= end, "two installs ran on the venv at the same time"
    installed = user_packages(server)
    assert all(name in installed for name in FIVE)


def test_queued_jobs_show_as_queued(server, slow_index):
    slow_index.released.clear()
    slow = server.post(API + "packages", json={"specs": [SLOW_PACKAGE]}).json()
    waiting = server.post(API + "packages", json={"specs": ["jmp-bravo"]}).json()
    assert waiting["state"] == "queued"
    listed = {j["id"]: j["state"] for j in server.get(API + "jobs").json()}
    assert listed[waiting["id"]] == "queued"
    # Cancelling the queued one never runs it.
    cancelled = server.delete(f"{API}jobs/{waiting['id']}").json()
    assert cancelled["state"] == "cancelled" and cancelled["started"] is None
    server.delete(f"{API}jobs/{slow['id']}")


def test_cancel_a_running_install_leaves_the_venv_as_it_was(server, slow_index):
    slow_index.released.clear()
    slow_index.requested.clear()
    before = user_packages(server)
    response = server.post(API + "packages", json={"specs": [SLOW_PACKAGE]})
    job_url = response.headers["Location"]
    assert slow_index.requested.wait(60), "the installer never asked for the slow wheel"
    job = requests.get(f"http://127.0.0.1:{server.port}{job_url}", headers=server.auth, timeout=30).json()
    assert job["state"] == "running"
    cancelled = server.delete(f"{API}jobs/{job['id']}")
    assert cancelled.status_code == 200
    final = server.wait_job(job_url)
    assert final["state"] == "cancelled"
    assert user_packages(server) == before
    assert SLOW_PACKAGE not in manifest(server)["installed"]
    # The queue goes on.
    assert install(server, "jmp-charlie")["state"] == "succeeded"


def test_failed_install_explains_and_changes_nothing(server):
    before_packages = user_packages(server)
    before_manifest = manifest(server)
    job = install(server, "jmp-does-not-exist")
    assert job["state"] == "failed"
    assert job["exit_code"] not in (0, None)
    assert "jmp-does-not-exist" in job["message"]
    assert user_packages(server) == before_packages
    assert manifest(server)["requested"] == before_manifest["requested"]
    assert manifest(server)["installed"] == before_manifest["installed"]


def test_an_install_that_would_break_marimo_is_refused_with_a_clear_message(server):
    before = user_packages(server)
    job = install(server, "jmp-breaks-marimo")
    assert job["state"] == "failed"
    assert "click" in job["message"] and "marimo" in job["message"], job["message"]
    assert user_packages(server) == before


BAD_SPECS = [
    "",
    "   ",
    "-r requirements.txt",
    "--index-url=http://evil.example/simple",
    "--extra-index-url http://evil.example",
    "-e .",
    "-e git+https://example.com/repo.git",
    "--pre",
    "./local/package",
    "/etc/passwd",
    "../up/one",
    "~/pkg",
    "pkg.whl",
    "requests-2.0.tar.gz",
    "https://example.com/pkg.whl",
    "git+https://github.com/psf/requests",
    "file:///tmp/pkg",
    "requests @ https://example.com/requests.whl",
    "requests; rm -rf /",
    "requests && rm -rf /",
    "$(whoami)",
    "`id`",
    "requests | cat",
    "requests\nnumpy",
    "requests==",
    "requests>>1",
    "a" * 201,
    "C:\\pkg",
]


@pytest.mark.parametrize("spec", BAD_SPECS, ids=[repr(s)[:30] for s in BAD_SPECS])
def test_bad_spec_is_refused_and_nothing_runs(server, spec):
    before_jobs = len(server.get(API + "jobs").json())
    before_packages = user_packages(server)
    response = server.post(API + "packages", json={"specs": ["jmp-delta", spec]})
    assert response.status_code == 400
    message = response.json()["message"]
    assert message and len(message) < 500
    assert len(server.get(API + "jobs").json()) == before_jobs
    assert user_packages(server) == before_packages


@pytest.mark.parametrize(
    "body", [{}, {"specs": []}, {"specs": "requests"}, {"specs": [1]}, {"specs": ["x"] * 33}], ids=str
)
def test_malformed_request_bodies_are_refused(server, body):
    response = server.post(API + "packages", json=body)
    assert response.status_code == 400
    assert response.json()["message"]


def test_not_json_is_refused(server):
    response = server.post(API + "packages", data=b"specs=requests")
    assert response.status_code == 400


ENDPOINTS = [
    ("GET", "status"),
    ("GET", "packages"),
    ("POST", "packages"),
    ("DELETE", "packages/jmp-fixture"),
    ("GET", "jobs"),
    ("GET", "jobs/0123456789ab"),
    ("DELETE", "jobs/0123456789ab"),
    ("POST", "restart"),
]


@pytest.mark.parametrize("method, path", ENDPOINTS)
def test_every_endpoint_requires_login(server, method, path):
    response = requests.request(method, server.url + API + path, json={"specs": ["jmp-echo"]}, timeout=30)
    assert response.status_code == 403


def test_unknown_job_is_404(server):
    assert server.get(API + "jobs/0123456789ab").status_code == 404


def test_restart_when_marimo_is_not_running_says_so(tmp_path):
    jupyter = JupyterServer(root_dir=tmp_path / "root", state_dir=tmp_path / "state").start()
    try:
        response = jupyter.post(API + "restart")
        assert response.status_code == 409
        assert "not running" in response.json()["message"]
    finally:
        jupyter.stop()


def test_install_is_importable_at_once_in_a_running_marimo_and_restart_works(server):
    assert server.get("marimo/").status_code == 200
    before = server.status()["marimo"]

    async def import_before_and_after_install() -> tuple[str, str]:
        # One kernel, started before the package exists, like an open marimo tab.
        async with KernelSession(server, "live.py") as kernel:
            # Names starting with "_" are cell-local in marimo, so both cells may use them.
            missing = await kernel.run("try:\n    import jmp_live as _live\nexcept ModuleNotFoundError:\n    print('missing')")
            job = await asyncio.to_thread(install, server, "jmp-live")
            assert job["state"] == "succeeded", job["log"]
            present = await kernel.run("import jmp_live as _live\nprint(_live.VALUE)")
        return missing, present

    missing, present = asyncio.run(import_before_and_after_install())
    assert missing.strip() == "missing"
    assert present.strip() == "jmp-live-1.0"

    pid_before = json.loads((server.state_dir / "run" / f"launch-{before['port']}.json").read_text())["marimo_pid"]
    started = time.monotonic()
    response = server.post(API + "restart")
    assert response.status_code == 200, response.text
    after = response.json()
    assert after["running"] is True and after["state"] == "running"
    assert after["port"] == before["port"]
    pid_after = json.loads((server.state_dir / "run" / f"launch-{after['port']}.json").read_text())["marimo_pid"]
    assert pid_after != pid_before
    assert not is_running(pid_before)
    print(f"restart took {time.monotonic() - started:.2f}s")
    assert server.get("marimo/health").json()["status"] == "healthy"
    assert run_cell_sync(server, "live3.py", "import jmp_live; print(jmp_live.VALUE)").strip() == "jmp-live-1.0"


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_installers_honour_their_own_environment_settings(tmp_path, wheelhouse, installer):
    """A site behind a mirror or offline with a wheel folder sets it the installer's way."""
    env_settings = (
        {"UV_FIND_LINKS": str(wheelhouse), "UV_NO_INDEX": "1"}
        if installer == "uv"
        else {"PIP_FIND_LINKS": str(wheelhouse), "PIP_NO_INDEX": "1"}
    )
    jupyter = JupyterServer(
        root_dir=tmp_path / "root", state_dir=tmp_path / "state", extra_args=[f"--MarimoProxy.installer={installer}"]
    )
    import os

    saved = {k: os.environ.get(k) for k in env_settings}
    os.environ.update(env_settings)
    try:
        jupyter.start()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    try:
        assert jupyter.status()["installer"]["name"] == installer
        job = install(jupyter, "jmp-withdep")
        assert job["state"] == "succeeded", job["log"]
        assert job["log"][0].startswith("$ ")
        assert (" pip install " in job["log"][0]) if installer == "uv" else ("-m pip install" in job["log"][0])
        assert venv_import(jupyter, "jmp_leaf") == "jmp-leaf-1.0"
    finally:
        jupyter.stop()


def test_long_poll_wakes_when_a_queued_job_starts(server, slow_index):
    slow_index.released.clear()
    slow = server.post(API + "packages", json={"specs": [SLOW_PACKAGE]}).json()
    waiting = server.post(API + "packages", json={"specs": ["jmp-bravo"]}).json()
    assert waiting["state"] == "queued"

    def cancel_soon():
        time.sleep(1.0)
        server.delete(f"{API}jobs/{slow['id']}")

    threading.Thread(target=cancel_soon).start()
    started = time.monotonic()
    polled = server.get(f"{API}jobs/{waiting['id']}", params={"offset": 0, "wait": 25, "state": "queued"}).json()
    assert polled["state"] != "queued"
    assert time.monotonic() - started < 15, "the long-poll did not wake on the state change"
    server.wait_job(f"/{API}jobs/{waiting['id']}")
    cancelled = server.get(f"{API}jobs/{slow['id']}").json()
    assert cancelled["state"] == "cancelled" and "already satisfied" not in cancelled["message"]


def test_requirements_the_base_environment_satisfies_are_not_installed_again(server):
    """uv cannot see the base environment: without this, `marimo` in a project's
    requirements.txt would be downloaded again, or fail offline (as here)."""
    job = install(server, "marimo", "jupyter-server>=1", "jmp-golf-missing; python_version < '3'")
    assert job["state"] == "succeeded", job["log"]
    assert any("marimo: provided by the base environment" in line for line in job["log"])
    assert not any(line.startswith("$ ") for line in job["log"]), "nothing should have run"
    assert "marimo" not in user_packages(server)
    mixed = install(server, "marimo", "jmp-fixture==1.0")
    assert mixed["state"] == "succeeded", mixed["log"]
    command = next(line for line in mixed["log"] if line.startswith("$ "))
    assert command.endswith("-- jmp-fixture==1.0")


def test_a_version_the_base_does_not_have_is_installed_into_the_venv(server):
    job = install(server, "marimo<0.1")
    assert job["state"] == "failed"
    assert "marimo" in job["message"]
    assert "marimo" not in user_packages(server)
