"""What Jupyter sends back to the browser from marimo's route.

The browser must never hold a credential for marimo: every request is
authorised by Jupyter's login and the header the proxy adds. So marimo's
session cookie (which opens marimo straight on its loopback port) is dropped
from every response, and marimo's route that hands out its token answers 404.

A tornado output transform sees every response, buffered or streamed (server-sent
events bypass jupyter-server-proxy's own ``rewrite_response``).
"""

from __future__ import annotations

from http.cookies import SimpleCookie

from tornado.httputil import HTTPHeaders
from tornado.web import OutputTransform

# marimo paths whose answers are credentials, relative to marimo's base URL.
BLOCKED_PATHS = ("auth/token",)
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


def marimo_route_guard(route_prefix: str) -> type[OutputTransform]:
    """An output transform for responses under ``route_prefix`` ("/base/marimo/")."""
    blocked = {route_prefix + path for path in BLOCKED_PATHS}

    class MarimoRouteGuard(OutputTransform):
        def __init__(self, request) -> None:
            path = request.path
            self.applies = path.startswith(route_prefix)
            self.blocked = self.applies and path.rstrip("/") in blocked

        def transform_first_chunk(self, status_code, headers, chunk, finishing):
            if not self.applies:
                return status_code, headers, chunk
            headers = without_marimo_cookies(headers)
            if self.blocked:
                for name in ("Content-Type", "Content-Encoding", "Transfer-Encoding"):
                    if name in headers:
                        del headers[name]
                headers["Content-Length"] = "0"
                return 404, headers, b""
            return status_code, headers, chunk

        def transform_chunk(self, chunk, finishing):
            return b"" if self.blocked else chunk

    return MarimoRouteGuard
