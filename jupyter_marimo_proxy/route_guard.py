"""What Jupyter sends back to the browser from marimo's route.

The browser must never hold a credential for marimo: every request is
authorised by Jupyter's login and the header the proxy adds. So marimo's
session cookie (which opens marimo straight on its loopback port) is dropped
from every response, and marimo's route that hands out its token answers 404.

A tornado output transform sees every response, buffered or streamed (server-sent
events bypass jupyter-server-proxy's own ``rewrite_response``). Paths are judged
as marimo will read them (percent-decoded, slashes collapsed), and as a last
line any answer that would carry the secret itself is withheld.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable
from http.cookies import SimpleCookie
from urllib.parse import unquote

from tornado.httputil import HTTPHeaders
from tornado.web import OutputTransform

# marimo paths whose answers are credentials, relative to marimo's base URL.
BLOCKED_PATHS = ("auth/token",)
BLOCKED_ENDINGS = tuple("/" + path for path in BLOCKED_PATHS)
# Jupyter's own cookies may be set on any path; everything else on marimo's route is marimo's.
JUPYTER_COOKIE_PREFIXES = ("_xsrf", "username-")


def _cookie_name(set_cookie: str) -> str:
    parsed = SimpleCookie()
    try:
        parsed.load(set_cookie)
    except Exception:  # noqa: BLE001 - an unparsable cookie is dropped too
        return ""
    return next(iter(parsed.keys()), "")


def without_marimo_cookies(headers: HTTPHeaders) -> HTTPHeaders:
    kept = [
        value for value in headers.get_list("Set-Cookie") if _cookie_name(value).startswith(JUPYTER_COOKIE_PREFIXES)
    ]
    if "Set-Cookie" in headers:
        del headers["Set-Cookie"]
    for value in kept:
        headers.add("Set-Cookie", value)
    return headers


def normalized(path: str) -> str:
    """The path as a server reading it would: decoded (repeatedly), no fragment,
    no empty or dot segments."""
    for _ in range(3):
        decoded = unquote(path)
        if decoded == path:
            break
        path = decoded
    path = path.split("#", 1)[0].split("?", 1)[0]
    path = re.sub(r"/+", "/", path)
    return posixpath.normpath(path) if path else "/"


def marimo_route_guard(route_prefix: str, known_secrets: Callable[[], Iterable[str]]) -> type[OutputTransform]:
    """An output transform for responses under ``route_prefix`` ("/base/marimo/")."""
    root = normalized(route_prefix)
    blocked = {posixpath.join(root, path) for path in BLOCKED_PATHS}

    class MarimoRouteGuard(OutputTransform):
        def __init__(self, request) -> None:
            path = normalized(request.path)
            self.applies = request.path.startswith(route_prefix) or path == root or path.startswith(root + "/")
            self.blocked = self.applies and (path in blocked or path.endswith(BLOCKED_ENDINGS))
            self.secrets = [s.encode() for s in known_secrets() if s] if self.applies else []

        def carries_secret(self, chunk: bytes) -> bool:
            return any(secret in chunk for secret in self.secrets)

        def transform_first_chunk(self, status_code, headers, chunk, finishing):
            if not self.applies:
                return status_code, headers, chunk
            headers = without_marimo_cookies(headers)
            if self.blocked or self.carries_secret(chunk):
                self.blocked = True
                for name in ("Content-Type", "Content-Encoding", "Transfer-Encoding"):
                    if name in headers:
                        del headers[name]
                headers["Content-Length"] = "0"
                return 404, headers, b""
            return status_code, headers, chunk

        def transform_chunk(self, chunk, finishing):
            if self.blocked:
                return b""
            for secret in self.secrets:
                chunk = chunk.replace(secret, b"[hidden]")
            return chunk

    return MarimoRouteGuard
