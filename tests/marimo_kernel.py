"""Drive a marimo kernel through the Jupyter proxy, as marimo's own frontend does.

A websocket to ``marimo/ws`` opens a session on a notebook file; POST
``api/kernel/run`` runs code in a cell; the cell's stdout comes back on the
websocket as ``cell-op`` messages.
"""

from __future__ import annotations

import asyncio
import json
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


async def run_cell(server: JupyterServer, notebook: str, code: str, timeout: float = 60) -> str:
    """Run ``code`` in a fresh session on ``notebook``; return the cell's stdout and stderr."""
    (server.root_dir / notebook).write_text(EMPTY_NOTEBOOK)
    token = server_token(server, notebook)
    session_id = "s_" + uuid.uuid4().hex[:8]
    cell_id = "c" + uuid.uuid4().hex[:6]
    ws_url = server.url.replace("http://", "ws://") + f"marimo/ws?session_id={session_id}&file={notebook}"
    output: list[str] = []
    async with websockets.connect(ws_url, additional_headers=server.auth, max_size=None) as ws:
        first = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        assert first["op"] == "kernel-ready", first
        headers = {**server.auth, "Marimo-Session-Id": session_id}
        if token:
            headers["Marimo-Server-Token"] = token
        response = await asyncio.to_thread(
            requests.post,
            server.url + "marimo/api/kernel/run",
            headers=headers,
            json={"cellIds": [cell_id], "codes": [code]},
            timeout=timeout,
        )
        response.raise_for_status()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
            data = message.get("data") or {}
            if message.get("op") != "cell-op" or data.get("cell_id") != cell_id:
                continue
            consoles = data.get("console") or []
            for item in consoles if isinstance(consoles, list) else [consoles]:
                output.append(str(item.get("data", "")))
            if data.get("status") == "idle":
                return "".join(output)
    raise TimeoutError(f"cell did not finish; output so far: {''.join(output)!r}")


def run_cell_sync(server: JupyterServer, notebook: str, code: str, timeout: float = 60) -> str:
    return asyncio.run(run_cell(server, notebook, code, timeout))
