"""JupyterHub figures for BENCHMARKS.md (issue #11): per-user memory and time to
marimo's page through the hub for 1 user, then 8 users opening at once.

Run as root after scripts/setup.sh: ``.venv/bin/python tests/hub_bench.py``.
It builds the same hub as tests/test_hub.py (tests/hub_env.py), creates 9 OS
users, starts their servers, and removes everything at the end. Each user's
marimo is cold (no venv yet, marimo not started): the time is from the page
request to marimo's editor page, through configurable-http-proxy, the
single-user server, jupyter-server-proxy and the launcher.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from hub_env import Hub, ServerView, build_user_environment, create_user, missing_prerequisites, new_base, remove_user  # noqa: E402
from marimo_kernel import KernelSession  # noqa: E402
from wheels import build_fixture_wheelhouse  # noqa: E402


def rss_by_role(uid: int) -> dict[str, float]:
    """MiB of resident memory per role among the user's processes."""
    import os

    roles: dict[str, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}").st_uid != uid:
                continue
            cmd = open(f"/proc/{entry}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
            rss = next(int(line.split()[1]) for line in open(f"/proc/{entry}/status") if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            continue
        if "jupyterhub-singleuser" in cmd:
            role = "jupyter"
        elif "jupyter_marimo_proxy.launcher" in cmd:
            role = "launcher"
        elif "marimo" in cmd and " edit " in cmd:
            role = "marimo"
        else:
            role = "notebook kernel and other"
        roles[role] = roles.get(role, 0.0) + rss / 1024
    return roles


def open_page(view: ServerView) -> float:
    started = time.monotonic()
    page = view.get("marimo/", timeout=300)
    assert page.status_code == 200 and "marimo-server-token" in page.text, page.status_code
    return time.monotonic() - started


def main() -> int:
    problem = missing_prerequisites()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    base = new_base()
    users, hub = [], None
    try:
        users = [create_user(f"jmpb{i}") for i in range(9)]
        env = build_user_environment(base / "env")
        hub = Hub(base, users, env).start(build_fixture_wheelhouse(base / "wheels"))
        started = time.monotonic()
        for user in users:
            hub.start_server(user)
        for user in users:
            hub.wait_ready(user)
        spawn_all = time.monotonic() - started
        views = [ServerView(hub, user, hub.token_for(user)) for user in users]
        one = open_page(views[0])
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            eight = list(pool.map(open_page, views[1:]))

        async def a_notebook(view: ServerView) -> None:
            async with KernelSession(view, "bench.py", timeout=180, ping_interval=None) as session:
                await session.run("import sys\nprint(len(sys.modules))")
                time.sleep(1)
                memory.append(rss_by_role(view.user.uid))

        memory: list[dict[str, float]] = []
        for view in views[:3]:
            asyncio.run(a_notebook(view))
        roles = sorted({role for m in memory for role in m})
        result = {
            "spawn 9 single-user servers at once (s)": round(spawn_all, 2),
            "marimo page, 1 user (s)": round(one, 2),
            "marimo page, 8 users at once: median / max (s)": [round(statistics.median(eight), 2), round(max(eight), 2)],
            "per-user RSS MiB (median of 3 users, notebook open)": {
                role: round(statistics.median(m.get(role, 0.0) for m in memory), 1) for role in roles
            },
            "per-user RSS MiB total": round(statistics.median(sum(m.values()) for m in memory), 1),
        }
        print(json.dumps(result, indent=2))
        return 0
    finally:
        if hub is not None:
            hub.stop()
        for user in users:
            remove_user(user)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
