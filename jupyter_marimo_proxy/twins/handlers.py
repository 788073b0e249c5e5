"""REST routes for twins in JupyterLab, under ``{base_url}jupyter-marimo-proxy/twins``.

- ``GET twins?path=<folder>``: the pairs of one folder and their states (the file browser's badges)
- ``POST twins/sync`` ``{"path", "from"?, "force"?}``: bring the pair of a file in step
- ``POST twins/check`` ``{"path"}``: run both sides and compare (the report tab)

Paths are Jupyter contents paths, confined to the root; the check runs in a
subprocess (``python -m jupyter_marimo_proxy twins --check --json``) so a
notebook's kernel and marimo's runner never share Jupyter's process.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import tornado.web

from ..handlers import NotebookFileHandler
from ..session import current_session, module_command
from ..paths import to_contents_path
from . import discovery as d
from .sync import mark_in_step, sync_twin

CHECK_TIMEOUT = 1800


def _pair_json(twin: d.Twin, root: str) -> dict:
    return {
        "ipynb": to_contents_path(root, twin.ipynb_path),
        "marimo": to_contents_path(root, twin.marimo_path),
        "state": twin.state,
        "description": twin.description,
        "synced": twin.synced,
    }


class TwinBaseHandler(NotebookFileHandler):
    def twin_for(self, body: dict) -> d.Twin:
        path = self.resolve(body.get("path"))
        twin = d.twin_of(path)
        if twin is None or (twin.state == d.NO_TWIN and not body.get("create", False)):
            raise tornado.web.HTTPError(404, f"{path.name} has no twin.")
        return twin


class TwinsHandler(TwinBaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        root = current_session().root_dir
        folder = self.resolve(self.get_argument("path", "") or ".", kind="dir")
        twins = await asyncio.to_thread(d.twins_in_folder, folder)
        self.finish(json.dumps({"pairs": [_pair_json(t, root) for t in twins]}))


class TwinSyncHandler(TwinBaseHandler):
    @tornado.web.authenticated
    async def post(self) -> None:
        body = self.read_json()
        source = body.get("from")
        if source not in (None, "ipynb", "marimo"):
            raise tornado.web.HTTPError(400, "from must be 'ipynb' or 'marimo'.")
        twin = self.twin_for(body)
        if body.get("mark"):
            result = await asyncio.to_thread(mark_in_step, twin, self.allow_hidden)
        else:
            python = await self.venv_python()
            result = await asyncio.to_thread(
                sync_twin, python, twin, source=source, force=bool(body.get("force")), allow_hidden=self.allow_hidden
            )
        if result.action == "refused":
            self.set_status(409)
        elif result.action == "failed":
            self.set_status(422)
        root = current_session().root_dir
        self.finish(json.dumps({"action": result.action, "message": result.message, "pair": _pair_json(result.twin, root)}))


class TwinCheckHandler(TwinBaseHandler):
    @tornado.web.authenticated
    async def post(self) -> None:
        session = current_session()
        twin = self.twin_for(self.read_json())
        await self.venv_python()
        env = dict(os.environ, JUPYTER_MARIMO_PROXY_STATE_DIR=str(session.settings.state_dir))
        process = await asyncio.create_subprocess_exec(
            *module_command("jupyter_marimo_proxy", "twins", str(twin.ipynb_path), "--check", "--json"),
            cwd=str(Path(session.root_dir)), env=env,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            out, _ = await asyncio.wait_for(process.communicate(), CHECK_TIMEOUT)
        except asyncio.TimeoutError:
            process.kill()
            await process.wait()
            raise tornado.web.HTTPError(504, f"The check did not finish within {CHECK_TIMEOUT} seconds.") from None
        try:
            report = json.loads(out.decode("utf-8"))
        except ValueError:
            raise tornado.web.HTTPError(500, "The check gave no report.") from None
        self.finish(json.dumps(report))


def twin_routes(route) -> list[tuple]:
    return [
        (route("twins"), TwinsHandler),
        (route("twins/sync"), TwinSyncHandler),
        (route("twins/check"), TwinCheckHandler),
    ]
