"""The script our route adds to marimo's pages so they survive proxies that break websockets.

``connection_shim.js`` wraps the page's ``WebSocket`` (query string moved into
the path; an event stream and POSTs when websockets are refused or torn down;
see ``launch/query_in_path.py`` and ``launch/tunnel.py``). It is inserted by
jupyter-server-proxy's ``rewrite_response``, which sees every buffered response
of the route; marimo's HTML pages are buffered (only requests that accept
``text/event-stream`` are streamed).
"""

from __future__ import annotations

import gzip
import json
import re
from functools import lru_cache
from pathlib import Path

from jupyter_server.utils import url_path_join

_HEAD = re.compile(rb"<head[^>]*>", re.IGNORECASE)


@lru_cache(maxsize=1)
def shim_source() -> str:
    return (Path(__file__).with_name("connection_shim.js")).read_text(encoding="utf-8")


def shim_tag(route_base: str) -> bytes:
    """The inline script for a route whose pages live under ``route_base`` ("/base/marimo/")."""
    base = json.dumps(route_base)[1:-1]  # a JS string body; the base is a URL path
    source = shim_source().replace("__JMP_BASE__", base)
    return b'<script data-jupyter-marimo-proxy="connection">' + source.encode("utf-8") + b"</script>"


def with_shim(body: bytes, route_base: str) -> bytes:
    tag = shim_tag(route_base)
    match = _HEAD.search(body)
    if match is None:
        return tag + body
    return body[: match.end()] + tag + body[match.end():]


def route_base_of(jupyter_base_url: str, route: str) -> str:
    return url_path_join(jupyter_base_url or "/", route).rstrip("/") + "/"


def page_rewriter(route_base):
    """A ``rewrite_response`` for jupyter-server-proxy; ``route_base()`` gives the route's path."""

    def rewrite(response) -> None:
        content_type = response.headers.get("Content-Type", "")
        if response.code != 200 or not content_type.startswith("text/html") or not response.body:
            return
        body = response.body
        if response.headers.get("Content-Encoding", "").lower() == "gzip":
            body = gzip.decompress(body)
            del response.headers["Content-Encoding"]
        elif response.headers.get("Content-Encoding"):
            return  # an encoding we do not read: the page works, without the shim
        response.body = with_shim(body, route_base())

    return rewrite
