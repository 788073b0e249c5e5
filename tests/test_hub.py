"""JupyterHub for real (issue #11): a pinned JupyterHub with configurable-http-proxy,
PAM logins and the default LocalProcessSpawner, two real OS users, everything
checked through the hub's URLs.

Needs root (useradd, the spawner's setuid), as CI has. ``tests/hub_env.py``
says how the hub and the users' world-readable single-user environment are
built (offline, from what ``scripts/setup.sh`` installed) and cleaned up.
The tests run in order on one hub; each says what it proves.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import shutil
import subprocess
import time

import pytest
import requests

from hub_env import (
    ACTIVITY_INTERVAL,
    VENV,
    Hub,
    ServerView,
    build_user_environment,
    create_user,
    launch_facts,
    missing_prerequisites,
    new_base,
    processes_of,
    remove_user,
)
from marimo_kernel import KernelSession
from wheels import build_fixture_wheelhouse

pytestmark = pytest.mark.timeout(900)

API = "jupyter-marimo-proxy/"


@pytest.fixture(scope="module")
def hub():
    problem = missing_prerequisites()
    if problem:
        pytest.fail(problem)
    base = new_base()
    users, running = [], None
    try:
        users = [create_user("jmphuba"), create_user("jmphubb")]
        env = build_user_environment(base / "env")
        wheels = build_fixture_wheelhouse(base / "wheels")
        running = Hub(base, users, env).start(wheels)
        for user in users:
            running.start_server(user)
        for user in users:
            running.wait_ready(user)
        yield running
    finally:
        if running is not None:
            running.stop()
        for user in users:
            remove_user(user)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def views(hub) -> dict[str, ServerView]:
    return {user.name: ServerView(hub, user, hub.token_for(user)) for user in hub.users}


def run_cell(view: ServerView, notebook: str, code: str) -> str:
    async def go():
        async with KernelSession(view, notebook, timeout=120, ping_interval=None) as session:
            return await session.run(code)

    return asyncio.run(go())


def test_marimo_opens_for_each_user_and_runs_as_that_user_from_their_venv(hub, views):
    for user in hub.users:
        browser = hub.login(user)  # PAM, then the hub's OAuth to the user's server
        page = browser.get(f"{hub.url}/user/{user.name}/marimo/", timeout=180)
        assert page.status_code == 200, page.text[:500]
        assert "marimo-server-token" in page.text, "marimo's editor page"
        output = run_cell(views[user.name], "whoami.py", "import os, sys\nprint(os.getuid(), sys.prefix)")
        uid, prefix = output.split()
        assert int(uid) == user.uid
        assert prefix == str(user.state_dir / "venv")
        [facts] = [f for f in launch_facts(user) if f.get("state") == "running"]
        for pid in (facts["launcher_pid"], facts["marimo_pid"]):
            with open(f"/proc/{pid}/status") as status:
                uids = next(line for line in status if line.startswith("Uid:")).split()[1:]
            assert {int(u) for u in uids} == {user.uid}, f"process {pid} is not only {user.name}'s"
        with open(f"/proc/{facts['marimo_pid']}/cmdline", "rb") as cmdline:
            assert cmdline.read().split(b"\0")[0].decode() == str(user.state_dir / "venv" / "bin" / "python")


def test_the_other_users_session_and_no_session_are_refused(hub, views):
    alice, bob = hub.users
    target = f"{hub.url}/user/{alice.name}/"
    bobs_browser = hub.login(bob)
    for path in ("marimo/", API + "status"):
        answer = bobs_browser.get(target + path, timeout=60)
        assert answer.status_code == 403, (path, answer.status_code)
        assert "marimo-server-token" not in answer.text
        answer = requests.get(target + path, headers=views[bob.name].auth, timeout=60)
        assert answer.status_code == 403, (path, answer.status_code)
        nobody = requests.get(target + path, timeout=60, allow_redirects=False)
        assert nobody.status_code in (302, 403), (path, nobody.status_code)
        if nobody.status_code == 302:
            # To the hub's OAuth, which sends a visitor without a session to its login page.
            assert nobody.headers["Location"].startswith("/hub/"), nobody.headers["Location"]
            followed = requests.get(target + path, timeout=60)
            assert "/hub/login" in followed.url and "marimo-server-token" not in followed.text, followed.url
    # The legitimate path, to show the refusals are about the session.
    assert requests.get(target + API + "status", headers=views[alice.name].auth, timeout=60).status_code == 200


INTRUDER = r"""
import glob, http.client, json, os, sys
P = json.loads(sys.stdin.read())
seen, refused = [], []
for path in [P["state"], P["run"], *P["files"], f"/proc/{P['launcher']}/environ", f"/proc/{P['marimo']}/environ"]:
    try:
        if os.path.isdir(path):
            seen.append(" ".join(os.listdir(path)))
        else:
            with open(path, "rb") as handle:
                seen.append(handle.read().decode("utf-8", "replace"))
    except OSError as error:
        refused.append(path)
for pid in (P["launcher"], P["marimo"]):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            seen.append(handle.read().decode("utf-8", "replace"))
    except OSError:
        pass
answers = []
for port in (P["door"], P["marimo_port"]):
    for headers in ({}, {"Authorization": "Bearer guess"}, {"Authorization": "token guess"}):
        for path in (P["base"] + "/", P["base"] + "/api/status", P["base"] + "/auth/token"):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
            try:
                conn.request("GET", path, headers=headers)
                r = conn.getresponse()
                body = r.read(200000).decode("utf-8", "replace")
                served = "<marimo-version" in body or "marimo-server-token" in body
                answers.append([port, path, r.status, r.getheader("Location") or "", served])
                seen.append(body + json.dumps(r.getheaders()))
            except OSError as error:
                answers.append([port, path, repr(error), "", False])
            finally:
                conn.close()
print(json.dumps({"seen": seen, "refused": refused, "answers": answers}))
"""


def test_the_other_os_user_cannot_obtain_the_secret_or_reach_marimo(hub):
    alice, bob = hub.users
    [facts] = [f for f in launch_facts(alice) if f.get("state") == "running"]
    door = facts["port"]
    secret = (alice.state_dir / "run" / f"secret-{door}").read_text().strip()
    params = {
        "state": str(alice.state_dir),
        "run": str(alice.state_dir / "run"),
        "files": [str(p) for p in (alice.state_dir / "run").iterdir()] + [str(p) for p in (alice.state_dir / "logs").iterdir()],
        "launcher": facts["launcher_pid"],
        "marimo": facts["marimo_pid"],
        "door": door,
        "marimo_port": facts["marimo_port"],
        "base": f"/user/{alice.name}/marimo",
    }
    result = bob.run(["/usr/bin/python3", "-I", "-c", INTRUDER], input=json.dumps(params), timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert secret and not any(secret in text for text in report["seen"]), "the other account saw the secret"
    assert str(alice.state_dir / "run") in report["refused"], "the run dir must be closed to other accounts"
    # The front door answers 401; marimo's own port at most sends to its login form.
    let_in = [
        answer
        for answer in report["answers"]
        if answer[4] or not isinstance(answer[2], int) or 200 <= answer[2] < 300
        or (answer[2] in (301, 302, 303, 307, 308) and "login" not in answer[3])
    ]
    assert report["answers"] and not let_in, let_in
    assert {answer[2] for answer in report["answers"] if answer[0] == door} == {401}


def test_a_package_installed_by_one_user_is_theirs_alone(hub, views):
    alice, bob = hub.users
    a, b = views[alice.name], views[bob.name]
    # Underscored names are cell-local in marimo: the probe can run twice in one notebook.
    probe = "try:\n    import jmp_fixture as _m\n    print('present', _m.VALUE)\nexcept ModuleNotFoundError:\n    print('absent')"

    async def scenario():
        async with KernelSession(a, "mine.py", timeout=120, ping_interval=None) as mine, KernelSession(
            b, "theirs.py", timeout=120, ping_interval=None
        ) as theirs:
            assert "absent" in await mine.run(probe)
            answer = await asyncio.to_thread(a.post, API + "packages", json={"specs": ["jmp-fixture==1.0"]})
            assert answer.status_code == 202, answer.text
            job = await asyncio.to_thread(a.wait_job, answer.headers["Location"])
            assert job["state"] == "succeeded", job
            # The marimo tab that was open before the install imports it at once.
            return await mine.run(probe), await theirs.run(probe)

    in_mine, in_theirs = asyncio.run(scenario())
    assert "present jmp-fixture-1.0" in in_mine
    assert "absent" in in_theirs


def test_a_named_server_and_the_default_server_installing_at_once_keep_every_package(hub, views):
    alice = hub.users[0]
    hub.start_server(alice, "second")
    hub.wait_ready(alice, "second")
    default, named = views[alice.name], ServerView(hub, alice, views[alice.name].token, "second")

    def install(view: ServerView, spec: str) -> dict:
        answer = view.post(API + "packages", json={"specs": [spec]})
        assert answer.status_code == 202, answer.text
        return view.wait_job(answer.headers["Location"])

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        jobs = list(pool.map(install, [default, named], ["jmp-alpha", "jmp-bravo"]))
    assert [job["state"] for job in jobs] == ["succeeded", "succeeded"], jobs
    for view in (default, named):
        names = {p["name"] for p in view.get(API + "packages").json() if p["source"] == "user"}
        assert {"jmp-fixture", "jmp-alpha", "jmp-bravo"} <= names, names
    manifest = json.loads((alice.state_dir / "manifest.json").read_text())
    assert {"jmp-fixture==1.0", "jmp-alpha", "jmp-bravo"} <= set(manifest["requested"]), manifest
    assert {"jmp-fixture", "jmp-alpha", "jmp-bravo"} <= set(manifest["installed"]), manifest


def test_an_idle_marimo_tab_lets_the_server_be_culled_and_a_running_cell_does_not(hub, views):
    """What jupyterhub-idle-culler reads: the server's last_activity in the hub's API.
    The single-user server reports every 2 s and the hub polls its proxy every 2 s."""
    bob = hub.users[1]
    view = views[bob.name]
    settle = 2 * ACTIVITY_INTERVAL + 3

    def sample(seconds: float) -> list[str]:
        values, deadline = [], time.monotonic() + seconds
        while time.monotonic() < deadline:
            values.append(hub.last_activity(bob))
            time.sleep(1)
        return values

    async def scenario():
        # A hidden tab: its websocket open, nothing sent (a browser sends no pings).
        async with KernelSession(view, "idle.py", timeout=120, ping_interval=None) as session:
            await asyncio.sleep(settle)
            idle = await asyncio.to_thread(sample, 12)
            run = asyncio.ensure_future(session.run("import time\ntime.sleep(14)\nprint('done')"))
            await asyncio.sleep(1)
            busy = await asyncio.to_thread(sample, 12)
            return idle, busy, await run

    idle, busy, output = asyncio.run(scenario())
    assert len(set(idle)) == 1, f"an idle marimo tab moved the hub's last_activity: {idle}"
    assert "done" in output
    assert busy[-1] > idle[-1], "a running cell is activity"
    # The cell prints nothing for 14 s; the hub keeps hearing that it runs.
    assert len(set(busy)) >= 3, f"a cell still running must keep the server active: {busy}"


CULL_AFTER = 20  # seconds of inactivity before the culler stops a server (hubs use an hour or more)


def test_jupyterhub_idle_culler_stops_an_idle_marimo_server_and_spares_a_running_cell(hub, views):
    """The culler itself (jupyterhub-idle-culler, as hub operators run it, with a
    20 s timeout instead of an hour): bob's server, its marimo tab open and idle,
    is stopped; alice's, a marimo cell running for 45 s, is not."""
    alice, bob = hub.users
    culler_log_path = hub.base / "hub" / "idle-culler.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "PYTHON"))}
    env["JUPYTERHUB_API_TOKEN"] = hub.culler_token  # only the scopes the deploy guide gives it

    def wait_for(condition, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(0.5)
        return False

    async def scenario():
        # bob: a hidden marimo tab (websocket open, nothing sent); alice: a long cell.
        async with KernelSession(views[bob.name], "to_cull.py", timeout=120, ping_interval=None):
            async with KernelSession(views[alice.name], "busy.py", timeout=120, ping_interval=None) as busy:
                before = hub.last_activity(alice)
                run = asyncio.ensure_future(busy.run("import time\ntime.sleep(45)\nprint('done')"))
                # The culler starts once the hub has heard of alice's cell.
                moved = await asyncio.to_thread(wait_for, lambda: hub.last_activity(alice) != before, 3 * ACTIVITY_INTERVAL + 5)
                assert moved, "the running cell never reached the hub's last_activity"
                log = open(culler_log_path, "wb")
                culler = subprocess.Popen(
                    [str(VENV / "bin" / "python"), "-m", "jupyterhub_idle_culler", f"--url={hub.url}/hub/api",
                     f"--timeout={CULL_AFTER}", "--cull-every=5"],
                    env=env, stdout=log, stderr=subprocess.STDOUT,
                )  # fmt: skip
                try:
                    bob_culled = await asyncio.to_thread(wait_for, lambda: "" not in hub.servers(bob), CULL_AFTER + 30)
                    alice_after_bob = "" in hub.servers(alice)
                    output = await run
                    alice_after_cell = "" in hub.servers(alice)
                finally:
                    culler.terminate()
                    try:
                        culler.wait(timeout=15)
                    except subprocess.TimeoutExpired:
                        culler.kill()
                        culler.wait()
                    log.close()
                return bob_culled, alice_after_bob, output, alice_after_cell

    bob_culled, alice_after_bob, output, alice_after_cell = asyncio.run(scenario())
    culler_log = culler_log_path.read_text(errors="replace")[-3000:]
    assert bob_culled, f"the culler did not stop an idle marimo server:\n{culler_log}"
    assert alice_after_bob and alice_after_cell, f"the culler stopped a server with a cell running:\n{culler_log}"
    assert "done" in output


def test_stopping_the_servers_leaves_no_process_of_either_user(hub):
    alice, bob = hub.users
    for user, name in ((alice, "second"), (alice, ""), (bob, "")):
        if name in hub.servers(user):  # the culler may have stopped it already
            hub.stop_server(user, name)
    for user, name in ((alice, "second"), (alice, ""), (bob, "")):
        hub.wait_stopped(user, name)
    deadline = time.monotonic() + 20
    left = {}
    while time.monotonic() < deadline:
        left = {user.name: processes_of(user.uid) for user in (alice, bob)}
        if not any(left.values()):
            break
        time.sleep(0.5)
    assert not any(left.values()), f"processes left after the servers stopped: {left}"
