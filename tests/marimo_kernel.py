"""Drive a marimo kernel through the Jupyter proxy, as marimo's own frontend does.

A websocket to ``marimo/ws`` opens a session on a notebook file; POST
``api/kernel/run`` runs code in a cell; the cell's stdout comes back on the
websocket as ``cell-op`` messages.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
import uuid

import requests
import websockets

from jupyter_process import JupyterServer

EMPTY_NOTEBOOK = """import marimo

app = marimo.App()


@app.cell
def _():
    return


if __name__ == "__main__":
    app.run()
"""


def server_token(server: JupyterServer, notebook: str) -> str | None:
    """marimo's skew-protection token, embedded in its page for the frontend."""
    page = server.get(f"marimo/?file={notebook}").text
    match = re.search(r'<marimo-server-token[^>]*data-token="([^"]+)"', page)
    return match.group(1) if match else None


class KernelSession:
    """One marimo session (one kernel) on a notebook, kept open across cell runs,
    as in a browser tab that stays open."""

    def __init__(self, server: JupyterServer, notebook: str, timeout: float = 60, **connect_options) -> None:
        self.server = server
        # e.g. ping_interval=None: a browser never pings, and JupyterHub's proxy counts pings as use.
        self.connect_options = connect_options
        self.notebook = notebook
        self.timeout = timeout
        self.session_id = "s_" + uuid.uuid4().hex[:8]
        self.ws = None
        self.token: str | None = None

    async def __aenter__(self) -> "KernelSession":
        (self.server.root_dir / self.notebook).write_text(EMPTY_NOTEBOOK)
        self.token = await asyncio.to_thread(server_token, self.server, self.notebook)
        ws_url = self.server.url.replace("http://", "ws://") + f"marimo/ws?session_id={self.session_id}&file={self.notebook}"
        self.ws = await websockets.connect(ws_url, additional_headers=self.server.auth, max_size=None, **self.connect_options)
        first = json.loads(await asyncio.wait_for(self.ws.recv(), self.timeout))
        assert first["op"] == "kernel-ready", first
        return self

    async def __aexit__(self, *exc) -> None:
        await self.ws.close()

    async def run(self, code: str) -> str:
        """Run ``code`` in a new cell of this kernel; return its stdout and stderr."""
        cell_id = "c" + uuid.uuid4().hex[:6]
        headers = {**self.server.auth, "Marimo-Session-Id": self.session_id}
        if self.token:
            headers["Marimo-Server-Token"] = self.token
        response = await asyncio.to_thread(
            requests.post,
            self.server.url + "marimo/api/kernel/run",
            headers=headers,
            json={"cellIds": [cell_id], "codes": [code]},
            timeout=self.timeout,
        )
        response.raise_for_status()
        output: list[str] = []
        run_ids: set[str] = set()
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), deadline - time.monotonic()))
            data = message.get("data") or {}
            if os.environ.get("DEBUG_MARIMO_WS"):
                print("ws:", json.dumps(message)[:300])
            if message.get("op") == "completed-run" and data.get("run_id") in run_ids:
                return "".join(output)
            if message.get("op") != "cell-op" or data.get("cell_id") != cell_id:
                continue
            if data.get("run_id"):
                run_ids.add(data["run_id"])
            consoles = data.get("console") or []
            for item in consoles if isinstance(consoles, list) else [consoles]:
                output.append(str(item.get("data", "")))
            cell_output = data.get("output") or {}
            if cell_output.get("channel") == "marimo-error":
                # marimo refuses some cells before running them (e.g. a name defined twice).
                output.append(f"MarimoError: {json.dumps(cell_output.get('data'))}\n")
            if data.get("status") == "idle":
                return "".join(output)
        raise TimeoutError(f"cell did not finish; output so far: {''.join(output)!r}")


async def run_cell(server: JupyterServer, notebook: str, code: str, timeout: float = 60) -> str:
    """Run ``code`` in a fresh session on ``notebook``; return the cell's stdout and stderr."""
    async with KernelSession(server, notebook, timeout) as session:
        return await session.run(code)


def run_cell_sync(server: JupyterServer, notebook: str, code: str, timeout: float = 60) -> str:
    return asyncio.run(run_cell(server, notebook, code, timeout))
