"""Idle culling sees marimo's real use (issue #11): an open, idle marimo tab is
not activity; running a cell, and a cell still running, are.

jupyter-server-proxy would count marimo's websocket pings (one a second) and
its page's polling as activity; the route has ``update_last_activity`` off and
the launcher's front door judges the traffic (``launch/activity.py``). Checked
here on a plain Jupyter server through ``GET api/status``'s ``last_activity``
(what Jupyter's idle shutdown and jupyterhub-singleuser's reports read); the
hub test (``test_hub.py``) checks the same through JupyterHub, the browser test
``ui-tests/tests/activity.spec.ts`` with hidden and visible tabs.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import pytest

from marimo_kernel import KernelSession


def last_activity(server) -> datetime:
    # api/status itself is not activity (jupyter_server does not track it).
    return datetime.fromisoformat(server.get("api/status").json()["last_activity"].replace("Z", "+00:00"))


def sample(server, seconds: float, every: float = 1.0) -> list[datetime]:
    samples = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        samples.append(last_activity(server))
        time.sleep(every)
    return samples


@pytest.fixture(scope="module")
def server(jupyter):
    assert jupyter.get("marimo/").status_code == 200  # marimo started
    return jupyter


def test_an_idle_open_session_and_polling_are_not_activity(server):
    async def scenario():
        async with KernelSession(server, "idle.py"):
            await asyncio.sleep(2.5)  # the opening's own requests are activity; let them pass
            before = await asyncio.to_thread(last_activity, server)
            deadline = time.monotonic() + 8
            while time.monotonic() < deadline:
                # marimo's page polls these while visible; marimo pings the websocket every second;
                # an open marimo tab polls the extension's instances every 2.5 s.
                for path in ("marimo/api/usage", "marimo/health", "marimo/api/status", "jupyter-marimo-proxy/instances"):
                    response = await asyncio.to_thread(server.get, path)
                    if path.startswith("jupyter-marimo-proxy/"):
                        assert response.status_code == 200, path
                await asyncio.sleep(2)
            after = await asyncio.to_thread(last_activity, server)
            return before, after

    before, after = asyncio.run(scenario())
    assert after == before, f"last_activity moved from {before} to {after} with only an idle tab and polling"


def test_running_a_cell_and_a_cell_still_running_are_activity(server):
    async def scenario():
        async with KernelSession(server, "busy.py", timeout=60) as session:
            await asyncio.sleep(2.5)
            before = await asyncio.to_thread(last_activity, server)
            run = asyncio.ensure_future(session.run("import time\ntime.sleep(12)\nprint('done')"))
            await asyncio.sleep(1)
            samples = await asyncio.to_thread(sample, server, 9.0)
            output = await run
            return before, samples, output

    before, samples, output = asyncio.run(scenario())
    assert "done" in output
    assert samples[0] > before, "running a cell is activity"
    # Nothing is printed for 12 s: the running cell itself keeps the server active.
    assert (samples[-1] - samples[0]).total_seconds() >= 4, samples
