"""Never half-installed: an install is all-or-nothing as the user sees it.

Real Jupyter servers, real uv and pip, a real venv. Each fault is interrupted
mid-install for real: the installer waits for its download at a gate, the test
stops its process group (SIGSTOP) as soon as it has its pid, opens the gate,
then lets it run in slices of a few milliseconds until the first files of the
3,001-file package are in site-packages, and only then cancels or kills. After
each fault every distribution in the venv is complete or absent, the package
list, the manifest and the venv agree, and a retry installs the package.

Each fault is repeated ``JMP_REPEAT`` times (default 3). The stress run:

    JMP_REPEAT=10 .venv/bin/python -m pytest tests/test_install_integrity.py
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from jupyter_marimo_proxy.packages import integrity
from jupyter_marimo_proxy.venv import create_venv, venv_site_packages
from jupyter_process import JupyterServer
from processes import is_running
from wheels import build_wheel

API = "jupyter-marimo-proxy/"
REPEAT = int(os.environ.get("JMP_REPEAT", "3"))
MANY = "jmp-many"
MANY_MODULES = 3000
ROUNDS = range(REPEAT)


# -- fixtures: a 3,001-file wheel, an index with a gate --------------------------------


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build_many_files_wheel(folder: Path, version: str, modules: int = MANY_MODULES) -> Path:
    """``jmp-many``: a package of ``modules`` small modules plus ``__init__``."""
    module = MANY.replace("-", "_")
    dist_info = f"{module}-{version}.dist-info"
    files = {f"{module}/__init__.py": f"VALUE = {MANY + '-' + version!r}\n".encode()}
    for i in range(modules):
        files[f"{module}/mod_{i:04d}.py"] = f"X = {i}\n".encode() + b"# padding line\n" * 40
    files[f"{dist_info}/METADATA"] = f"Metadata-Version: 2.1\nName: {MANY}\nVersion: {version}\n".encode()
    files[f"{dist_info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: jmp-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = [f"{path},sha256={_digest(data)},{len(data)}" for path, data in files.items()]
    files[f"{dist_info}/RECORD"] = ("\n".join(record + [f"{dist_info}/RECORD,,"]) + "\n").encode()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in files.items():
            archive.writestr(member, data)
    return path


class GateIndex:
    """A find-links page on loopback for the wheels in a folder; a download
    waits until the gate is open."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.gate = threading.Event()
        gate = self

        class Handler(BaseHTTPRequestHandler):
            def do_HEAD(self) -> None:  # noqa: N802
                self.do_GET(body=False)

            def do_GET(self, body: bool = True) -> None:  # noqa: N802
                name = self.path.strip("/")
                if name == "":
                    links = "".join(f'<a href="/{w.name}">{w.name}</a>' for w in sorted(gate.folder.glob("*.whl")))
                    self.reply(f"<html><body>{links}</body></html>".encode(), "text/html", body)
                elif (gate.folder / name).is_file() and "/" not in name:
                    if body:
                        gate.gate.wait(120)
                    self.reply((gate.folder / name).read_bytes(), "application/octet-stream", body)
                else:
                    self.send_error(404)

            def reply(self, data: bytes, kind: str, body: bool) -> None:
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if body:
                    self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()


_versions = itertools.count(1)


@pytest.fixture(scope="module")
def gate(tmp_path_factory):
    index = GateIndex(tmp_path_factory.mktemp("gate"))
    yield index
    index.close()


def new_many_version(gate: GateIndex) -> str:
    """A version never installed before: uv must download it (through the gate)."""
    version = f"1.{next(_versions)}"
    build_many_files_wheel(gate.folder, version)
    return version


def make_server(base: Path, wheelhouse: Path, gate: GateIndex, *extra: str, state_dir: Path | None = None) -> JupyterServer:
    return JupyterServer(
        root_dir=base / "root",
        state_dir=state_dir or base / "state",
        extra_args=[
            f"--MarimoProxy.find_links={wheelhouse}",
            f"--MarimoProxy.find_links={gate.url}",
            "--MarimoProxy.no_index=True",
            *extra,
        ],
    )


@pytest.fixture(scope="module", params=["uv", "pip"])
def server(request, tmp_path_factory, wheelhouse, gate):
    jupyter = make_server(
        tmp_path_factory.mktemp(f"integrity-{request.param}"), wheelhouse, gate, f"--MarimoProxy.installer={request.param}"
    ).start()
    yield jupyter
    jupyter.stop()


# -- helpers -----------------------------------------------------------------------------


def submit(server: JupyterServer, *specs: str) -> dict:
    response = server.post(API + "packages", json={"specs": list(specs)})
    assert response.status_code == 202, response.text
    return response.json()


def install(server: JupyterServer, *specs: str) -> dict:
    return server.wait_job(f"/{API}jobs/{submit(server, *specs)['id']}")


def uninstall(server: JupyterServer, name: str) -> dict:
    response = server.delete(API + f"packages/{name}")
    assert response.status_code == 202, response.text
    return server.wait_job(response.headers["Location"])


def site(state_dir: Path) -> Path:
    return venv_site_packages(state_dir / "venv")


def many_files(state_dir: Path) -> int:
    try:
        return len(os.listdir(site(state_dir) / MANY.replace("-", "_")))
    except FileNotFoundError:
        return 0


def many_complete(state_dir: Path) -> bool:
    return any(d.name == MANY and d.complete for d in integrity.scan(site(state_dir)))


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def freeze_mid_install(server: JupyterServer, job_id: str, gate: GateIndex) -> int:
    """Stop the job's installer once some, not all, of jmp-many's files are in
    place; returns the installer's pid (its process group), stopped."""
    pid = wait_until(lambda: server.get(f"{API}jobs/{job_id}").json()["pid"], interval=0.005)
    # Its download waits at the gate: it has installed nothing yet.
    os.killpg(pid, signal.SIGSTOP)
    gate.gate.set()
    deadline = time.monotonic() + 60
    while many_files(server.state_dir) == 0:
        assert time.monotonic() < deadline, "the installer never started to install jmp-many"
        os.killpg(pid, signal.SIGCONT)
        time.sleep(0.002)
        os.killpg(pid, signal.SIGSTOP)
    assert not many_complete(server.state_dir), "the installer finished within one slice: not caught mid-install"
    print(f"stopped with {many_files(server.state_dir)} of {MANY_MODULES + 1} files of {MANY} in place")
    return pid


def start_many_install(server: JupyterServer, gate: GateIndex) -> tuple[str, str, int]:
    gate.gate.clear()
    version = new_many_version(gate)
    job = submit(server, f"{MANY}=={version}")
    return version, job["id"], freeze_mid_install(server, job["id"], gate)


def assert_consistent(state_dir: Path, server: JupyterServer | None = None) -> dict[str, str]:
    """Every distribution complete, no job pending, manifest and venv agree (and
    the package list, when a server is up). Returns the venv's packages."""
    layout_manifest = state_dir / "manifest.json"
    report = integrity.check(state_dir / "venv", layout_manifest, state_dir / "job-journal.json")
    assert report.consistent, report.problems()
    present = integrity.complete_versions(integrity.scan(site(state_dir)))
    if server is not None:
        listed = {p["name"]: p["version"] for p in server.get(API + "packages").json() if p["source"] == "user"}
        assert listed == present
    return present


def assert_nothing_of_many_left(state_dir: Path) -> None:
    assert many_files(state_dir) == 0
    assert not list(site(state_dir).glob("jmp_many*"))
    assert MANY not in assert_consistent(state_dir)


def installer_of(server: JupyterServer) -> str:
    return server.status()["installer"]["name"]


def installer_gone(pid: int) -> bool:
    return not is_running(pid)


# -- faults with the server running: cancel, kill -9 of the installer, a full disk -------


@pytest.mark.parametrize("round_", ROUNDS)
def test_cancel_mid_install_leaves_nothing_and_a_retry_installs(server, gate, round_):
    version, job_id, pid = start_many_install(server, gate)
    cancelled = server.delete(f"{API}jobs/{job_id}")
    assert cancelled.status_code == 200, cancelled.text
    job = cancelled.json()
    assert job["state"] == "cancelled", job
    assert job["message"] == "Cancelled: nothing was installed.", job["message"]
    assert installer_gone(pid)
    assert_nothing_of_many_left(server.state_dir)
    assert_consistent(server.state_dir, server)
    manifest = server.state_dir / "manifest.json"
    assert not manifest.exists() or MANY not in json.loads(manifest.read_text())["installed"]

    if installer_of(server) == "pip":
        return  # the retry is the same with pip, and slow (pip writes 3,001 files in seconds)
    retry = install(server, f"{MANY}=={version}")
    assert retry["state"] == "succeeded", retry["log"]
    assert f"Installed {MANY} {version}" in retry["message"], retry["message"]
    assert many_complete(server.state_dir)
    assert assert_consistent(server.state_dir, server)[MANY] == version
    assert uninstall(server, MANY)["state"] == "succeeded"
    assert_nothing_of_many_left(server.state_dir)


@pytest.mark.parametrize("round_", ROUNDS)
def test_kill_9_of_the_installer_mid_install_leaves_nothing(server, gate, round_):
    version, job_id, pid = start_many_install(server, gate)
    os.kill(pid, signal.SIGKILL)
    job = server.wait_job(f"/{API}jobs/{job_id}")
    assert job["state"] == "failed"
    assert job["message"] == "The installer was stopped (SIGKILL) before it finished: nothing was installed."
    assert_nothing_of_many_left(server.state_dir)
    assert_consistent(server.state_dir, server)
    if installer_of(server) == "pip":
        return
    retry = install(server, f"{MANY}=={version}")
    assert retry["state"] == "succeeded", retry["log"]
    assert "already satisfied" not in retry["message"] and many_complete(server.state_dir)
    assert uninstall(server, MANY)["state"] == "succeeded"


@pytest.fixture(scope="module")
def small_disk(tmp_path_factory):
    """A 6 MB tmpfs as the state dir: room for the venv, not for jmp-many's 3,001 files."""
    mount_point = tmp_path_factory.mktemp("tmpfs")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount_point)], check=True)
    yield mount_point / "state"
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


@pytest.fixture(scope="module")
def full_disk_server(tmp_path_factory, wheelhouse, gate, small_disk):
    folder = tmp_path_factory.mktemp("full")
    build_many_files_wheel(folder / "wheels", "9.0")
    jupyter = make_server(
        folder, wheelhouse, gate, f"--MarimoProxy.find_links={folder / 'wheels'}", state_dir=small_disk
    ).start()
    yield jupyter
    jupyter.stop()


def free_bytes(path: Path) -> int:
    return shutil.disk_usage(path).free


@pytest.mark.parametrize("round_", ROUNDS)
def test_a_full_disk_leaves_nothing_and_says_so(full_disk_server, round_):
    server = full_disk_server
    # A first small install creates the venv on the small disk.
    assert install(server, "jmp-alpha")["state"] == "succeeded"
    free_before = free_bytes(server.state_dir)
    job = install(server, f"{MANY}==9.0")
    assert job["state"] == "failed", job["log"]
    assert job["message"] == f"No space left on device in {server.state_dir}: nothing was installed.", job["message"]
    assert_nothing_of_many_left(server.state_dir)
    present = assert_consistent(server.state_dir, server)
    assert present.get("jmp-alpha") == "1.0"
    assert free_bytes(server.state_dir) >= free_before - 64 * 1024, "the partial files were not removed"
    # The venv still takes installs and removals.
    assert install(server, "jmp-bravo")["state"] == "succeeded"
    assert uninstall(server, "jmp-bravo")["state"] == "succeeded"
    assert uninstall(server, "jmp-alpha")["state"] == "succeeded"
    assert_consistent(server.state_dir, server)


# -- faults of Jupyter itself ------------------------------------------------------------


@pytest.fixture(scope="module")
def jupyter_faults(tmp_path_factory, wheelhouse, gate):
    """One state dir for the servers these tests start and stop (or kill)."""
    base = tmp_path_factory.mktemp("faults")
    return lambda: make_server(base, wheelhouse, gate, state_dir=base / "state")


def recovered(server: JupyterServer) -> dict:
    jobs = wait_until(lambda: [j for j in server.get(API + "jobs").json() if j["kind"] == "recover"])
    return jobs[0]


@pytest.mark.parametrize("round_", ROUNDS)
def test_sigkill_of_jupyter_stops_the_installer_and_the_next_start_rolls_back(jupyter_faults, gate, round_):
    server = jupyter_faults().start()
    try:
        version, _, pid = start_many_install(server, gate)
        server.proc.kill()
        server.proc.wait()
        # Its parent-death signal (SIGTERM) waits while it is stopped; let it act.
        os.killpg(pid, signal.SIGCONT)
        wait_until(lambda: installer_gone(pid), timeout=10)
        assert not many_complete(server.state_dir), "the orphan installer went on installing"
        assert (server.state_dir / "job-journal.json").exists()
    finally:
        server.stop()
    again = jupyter_faults().start()
    try:
        job = recovered(again)
        assert job["state"] == "succeeded"
        assert "was rolled back" in job["message"] and MANY in job["message"], job["message"]
        assert_nothing_of_many_left(again.state_dir)
        assert_consistent(again.state_dir, again)
        retry = install(again, f"{MANY}=={version}")
        assert retry["state"] == "succeeded" and many_complete(again.state_dir), retry["log"]
        assert uninstall(again, MANY)["state"] == "succeeded"
    finally:
        again.stop()


@pytest.mark.parametrize("round_", ROUNDS)
def test_sigterm_of_jupyter_stops_the_installer_and_rolls_back(jupyter_faults, gate, round_):
    server = jupyter_faults().start()
    try:
        _, _, pid = start_many_install(server, gate)
        server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(timeout=30)
        assert installer_gone(pid)
        assert not (server.state_dir / "job-journal.json").exists()
        assert_nothing_of_many_left(server.state_dir)
    finally:
        server.stop()


@pytest.mark.parametrize("round_", ROUNDS)
def test_everything_killed_at_once_is_rolled_back_at_the_next_start(jupyter_faults, gate, round_):
    server = jupyter_faults().start()
    try:
        _, _, pid = start_many_install(server, gate)
        os.killpg(pid, signal.SIGKILL)
        server.proc.kill()
        server.proc.wait()
        wait_until(lambda: installer_gone(pid), timeout=10)
        assert many_files(server.state_dir) > 0 and not many_complete(server.state_dir)
    finally:
        server.stop()
    again = jupyter_faults().start()
    try:
        assert "was rolled back" in recovered(again)["message"]
        assert_nothing_of_many_left(again.state_dir)
        assert_consistent(again.state_dir, again)
    finally:
        again.stop()


# -- two Jupyter servers of one user on one venv -----------------------------------------


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory, gate):
    base = tmp_path_factory.mktemp("two")
    wheels = base / "wheels"
    for i in range(REPEAT):
        build_wheel(wheels, f"jmp-race-a{i}")
        build_wheel(wheels, f"jmp-race-b{i}")
    build_wheel(wheels, "jmp-alpha")
    servers = [
        make_server(base / name, wheels, gate, state_dir=base / "state").start() for name in ("a", "b")
    ]
    yield servers
    for server in servers:
        server.stop()


@pytest.mark.parametrize("round_", ROUNDS)
def test_two_servers_installing_at_once_lose_nothing(two_servers, round_):
    names = [f"jmp-race-a{round_}", f"jmp-race-b{round_}"]
    jobs: dict[int, dict] = {}
    start = threading.Barrier(2)

    def run(index: int) -> None:
        start.wait()
        jobs[index] = install(two_servers[index], names[index])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for index, name in enumerate(names):
        other = names[1 - index]
        assert jobs[index]["state"] == "succeeded", jobs[index]["log"]
        assert f"Installed {name} 1.0" in jobs[index]["message"], jobs[index]["message"]
        assert other not in jobs[index]["message"], jobs[index]["message"]
    state_dir = two_servers[0].state_dir
    manifest = json.loads((state_dir / "manifest.json").read_text())
    for done in range(round_ + 1):
        for name in (f"jmp-race-a{done}", f"jmp-race-b{done}"):
            assert name in manifest["requested"], manifest
            assert manifest["installed"].get(name) == "1.0", manifest
    for server in two_servers:
        assert_consistent(state_dir, server)


def test_a_job_waits_for_the_other_servers_job(two_servers, gate):
    first, second = two_servers
    gate.gate.clear()
    version = new_many_version(gate)
    blocking = submit(first, f"{MANY}=={version}")
    wait_until(lambda: first.get(f"{API}jobs/{blocking['id']}").json()["pid"])
    waiting = submit(second, "jmp-alpha")
    log = wait_until(
        lambda: (j := second.get(f"{API}jobs/{waiting['id']}").json())["state"] == "running"
        and any("another Jupyter server" in line for line in j["log"])
        and j
    )
    assert log["state"] == "running"
    gate.gate.set()
    assert first.wait_job(f"/{API}jobs/{blocking['id']}")["state"] == "succeeded"
    done = second.wait_job(f"/{API}jobs/{waiting['id']}")
    assert done["state"] == "succeeded" and "Installed jmp-alpha 1.0" in done["message"], done
    assert done["started"] >= 0
    assert uninstall(first, MANY)["state"] == "succeeded"
    assert_consistent(first.state_dir, second)


def test_manifest_writers_in_many_processes_lose_no_record(tmp_path):
    path = tmp_path / "manifest.json"
    code = (
        "import sys; from pathlib import Path\n"
        "from jupyter_marimo_proxy.packages.manifest import update_manifest\n"
        "for i in range(100):\n"
        "    update_manifest(Path(sys.argv[1]), lambda m: m.add_requested([f'pkg-{sys.argv[2]}-{i}']))\n"
    )
    writers = [subprocess.Popen([sys.executable, "-c", code, str(path), str(p)]) for p in range(4)]
    assert [w.wait(timeout=120) for w in writers] == [0] * 4
    requested = json.loads(path.read_text())["requested"]
    assert len(requested) == 400 and len(set(requested)) == 400
    assert not list(tmp_path.glob("*.tmp"))


# -- repair, package by package ----------------------------------------------------------


def test_repair_reinstalls_what_it_can_and_names_what_it_cannot(tmp_path, gate):
    wheels = tmp_path / "wheels"
    build_wheel(wheels, "jmp-alpha")
    bravo = build_wheel(wheels, "jmp-bravo")
    build_wheel(wheels, "jmp-charlie")
    server = make_server(tmp_path, wheels, gate).start()
    try:
        assert install(server, "jmp-alpha", "jmp-bravo", "jmp-charlie")["state"] == "succeeded"
        bravo.rename(tmp_path / bravo.name)  # jmp-bravo can no longer be installed
        (server.state_dir / "venv" / "bin" / "python").unlink()  # a broken venv
        response = server.post(API + "repair")
        job = server.wait_job(response.headers["Location"])
        assert job["state"] == "failed", job["log"]
        message = job["message"]
        assert message.startswith("Rebuilt the venv ("), message
        assert "reinstalled jmp-alpha, jmp-charlie" in message, message
        assert "could not reinstall jmp-bravo" in message, message
        assert "reinstalled jmp-alpha, jmp-bravo" not in message
        present = assert_consistent(server.state_dir, server)
        assert set(present) == {"jmp-alpha", "jmp-charlie"}
        manifest = json.loads((server.state_dir / "manifest.json").read_text())
        assert "jmp-bravo" in manifest["requested"] and "jmp-bravo" in manifest["failed"]
        assert "jmp-bravo" in server.status()["failed_packages"]

        (tmp_path / bravo.name).rename(bravo)
        again = server.wait_job(server.post(API + "repair").headers["Location"])
        assert again["state"] == "succeeded", again["log"]
        assert again["message"] == "The venv was healthy; reinstalled jmp-bravo 1.0.", again["message"]
        assert server.status()["failed_packages"] == {}
        assert set(assert_consistent(server.state_dir, server)) == {"jmp-alpha", "jmp-bravo", "jmp-charlie"}
    finally:
        server.stop()


# -- the Jupyter environment the venv was built on ---------------------------------------


def other_jupyter_environment(folder: Path) -> Path:
    """Another 'Jupyter installation': a venv of its own that sees this one's
    packages, plus a package only it has. Returns its interpreter."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    site_dir = next(folder.glob("lib/python*/site-packages"))
    ours = next(p for p in sys.path if p.startswith(sys.prefix) and p.endswith("site-packages"))
    (site_dir / "_jupyter_env.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    (site_dir / "jmp_env_marker.py").write_text("VALUE = 'the other environment'\n")
    return folder / "bin" / "python"


def test_a_venv_from_another_jupyter_environment_is_rebuilt_and_its_packages_return(tmp_path, wheelhouse, gate):
    first = make_server(tmp_path, wheelhouse, gate).start()
    try:
        assert install(first, "jmp-alpha")["state"] == "succeeded"
        assert first.status()["venv"]["healthy"] is True
    finally:
        first.stop()
    other = other_jupyter_environment(tmp_path / "other-env")
    moved = make_server(tmp_path, wheelhouse, gate, f"--MarimoProxy.base_python={other}").start()
    try:
        venv = moved.status()["venv"]
        assert venv["healthy"] is False
        assert any(
            f"built on another Jupyter environment ({sys.executable})" in p and "rebuilt on the next start" in p
            for p in venv["problems"]
        ), venv["problems"]
        doctor = subprocess.run(
            [str(other), "-m", "jupyter_marimo_proxy", "doctor"],
            capture_output=True,
            text=True,
            env={**os.environ, "JUPYTER_MARIMO_PROXY_STATE_DIR": str(moved.state_dir)},
        )
        assert "another Jupyter environment" in doctor.stdout, doctor.stdout
        # Opening marimo rebuilds the venv; a background repair brings the packages back.
        assert moved.get("marimo/", timeout=120).status_code == 200
        repairs = wait_until(lambda: [j for j in moved.get(API + "jobs").json() if j["kind"] == "repair"], timeout=60)
        job = moved.wait_job(f"/{API}jobs/{repairs[0]['id']}")
        assert job["state"] == "succeeded", job["log"]
        assert job["message"].startswith("Rebuilt the venv (the venv was built on another Jupyter environment"), job["message"]
        assert job["message"].endswith("reinstalled jmp-alpha 1.0."), job["message"]
        assert moved.status()["venv"]["healthy"] is True
        python = moved.state_dir / "venv" / "bin" / "python"
        out = subprocess.run(
            [str(python), "-c", "import jmp_alpha, jmp_env_marker; print(jmp_alpha.VALUE, jmp_env_marker.VALUE)"],
            capture_output=True,
            text=True,
        )
        assert out.stdout.strip() == "jmp-alpha-1.0 the other environment", out.stderr
    finally:
        moved.stop()


# -- doctor ------------------------------------------------------------------------------


def test_doctor_names_a_half_installed_package_and_a_manifest_that_disagrees(tmp_path):
    state = tmp_path / "state"
    create_venv(state / "venv", sys.executable)
    dist_info = site(state) / "jmp_many-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {MANY}\nVersion: 1.0\n")
    (dist_info / "RECORD").write_text("jmp_many/__init__.py,,\njmp_many/mod_0001.py,,\njmp_many-1.0.dist-info/RECORD,,\n")
    (site(state) / "jmp_many").mkdir()
    (site(state) / "jmp_many" / "__init__.py").write_text("")
    (state / "manifest.json").write_text(json.dumps({"requested": ["jmp-gone"], "installed": {"jmp-gone": "2.0"}}))
    result = subprocess.run(
        [sys.executable, "-m", "jupyter_marimo_proxy", "doctor"],
        capture_output=True,
        text=True,
        env={**os.environ, "JUPYTER_MARIMO_PROXY_STATE_DIR": str(state)},
    )
    assert result.returncode == 1, result.stdout
    assert f"The package {MANY} 1.0 (1 of 3 files are missing) is half-installed in the venv" in result.stdout, result.stdout
    assert "The manifest records jmp-gone 2.0 as installed but the venv does not have it" in result.stdout
