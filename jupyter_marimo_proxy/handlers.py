"""REST routes under ``{base_url}jupyter-marimo-proxy/``; every one requires Jupyter's login."""

from __future__ import annotations

import json

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from .session import current_session
from .status import build_status

API_PREFIX = "jupyter-marimo-proxy"


class StatusHandler(APIHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        self.finish(json.dumps(await build_status(current_session())))


def route_table(base_url: str) -> list[tuple]:
    def route(path: str) -> str:
        return url_path_join(base_url, API_PREFIX, path)

    return [
        (route("status"), StatusHandler),
    ]
