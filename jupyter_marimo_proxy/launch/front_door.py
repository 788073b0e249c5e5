"""The launcher's listener on the port jupyter-server-proxy knows.

marimo itself listens on a private loopback port. Every connection comes in
here first:

- a request without the current secret (a readiness probe, another account
  on the machine) gets a bare 401 at once, whatever state marimo is in;
- a request with it waits while marimo starts or restarts (no refused
  connection, so no traceback in Jupyter's log and no blank tab), then is
  spliced byte for byte to marimo, websockets included;
- when marimo could not start, it gets the page that says why.

Because the port is bound before marimo starts, jupyter-server-proxy's
readiness check passes at once and the user's first request goes out the
moment marimo is healthy, instead of at the proxy's next poll.
"""

from __future__ import annotations

import asyncio
import hmac
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from .activity import ActivityMeter
from .query_in_path import restore_query
from .relay import pipe, relay
from .tunnel import Tunnels, is_tunnel_request

MAX_HEAD_BYTES = 64 * 1024
HEAD_TIMEOUT = 30.0
COPY_CHUNK = 64 * 1024

_AUTHORIZATION = re.compile(rb"^authorization:[ \t]*bearer[ \t]+(\S+)[ \t]*$", re.IGNORECASE | re.MULTILINE)


@dataclass
class Route:
    """Where a request with the secret goes: marimo's port (with the secret of
    marimo's current start), or a page."""

    marimo_port: int | None = None
    secret: str | None = None
    page: tuple[int, str] | None = None  # (status, html)


def bearer_of(head: bytes) -> bytes | None:
    match = _AUTHORIZATION.search(head.split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b"\n"))
    return match.group(1) if match else None


def with_bearer(head: bytes, secret: str) -> bytes:
    """The request head with its Authorization header set to ``secret``."""
    lines = head.split(b"\r\n")
    fixed = [
        b"Authorization: Bearer " + secret.encode() if line.lower().startswith(b"authorization:") else line
        for line in lines
    ]
    return b"\r\n".join(fixed)


def simple_response(status: int, body: str = "", content_type: str = "text/html; charset=utf-8") -> bytes:
    reasons = {401: "Unauthorized", 431: "Request Header Fields Too Large", 503: "Service Unavailable", 502: "Bad Gateway"}
    data = body.encode("utf-8")
    head = [
        f"HTTP/1.1 {status} {reasons.get(status, 'Error')}",
        f"Content-Length: {len(data)}",
        "Cache-Control: no-store",
        "Connection: close",
    ]
    if data:
        head.append(f"Content-Type: {content_type}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + data


async def read_head(reader: asyncio.StreamReader) -> bytes | None:
    """Everything up to the end of the first request's headers (and what came with it)."""
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > MAX_HEAD_BYTES:
            return None
        chunk = await reader.read(COPY_CHUNK)
        if not chunk:
            return None
        data += chunk
    return data


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    try:
        await writer.wait_closed()
    except (ConnectionError, OSError):
        pass


class FrontDoor:
    """Accepts connections; ``accepts`` judges the secret, ``route`` waits for marimo."""

    def __init__(
        self,
        accepts: Callable[[bytes | None], bool],
        route: Callable[[], Awaitable[Route]],
        activity: "ActivityMeter | None" = None,
    ) -> None:
        # accepts(bearer): whether the request carries a secret we gave out.
        self._accepts = accepts
        self._route = route
        # Judges what is use of marimo (launch/activity.py); None: plain splicing.
        self._activity = activity
        # Websockets carried over an event stream and POSTs (launch/tunnel.py).
        self._tunnels = Tunnels(activity)
        self._server: asyncio.base_events.Server | None = None
        # asyncio keeps only weak references to tasks: a connection waiting on
        # two quiet sockets could otherwise be collected mid-splice.
        self._connections: set[asyncio.Task] = set()

    async def listen(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(self._handle, host, port, reuse_address=True)

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
            task.add_done_callback(self._connections.discard)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
            pass
        finally:
            await _close(writer)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await asyncio.wait_for(read_head(reader), HEAD_TIMEOUT)
        if head is None:
            writer.write(simple_response(431))
            return
        if not self._accepts(bearer_of(head)):
            writer.write(simple_response(401))
            await writer.drain()
            return
        route = await self._route()
        if route.page is not None:
            writer.write(simple_response(*route.page))
            await writer.drain()
            return
        assert route.marimo_port is not None and route.secret is not None
        # A query moved into the path by the page's script goes back (launch/query_in_path.py).
        head = restore_query(head)
        if is_tunnel_request(head):
            await self._tunnels.serve(head, reader, writer, route)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", route.marimo_port)
        except OSError:
            writer.write(simple_response(502, "marimo stopped while this request waited; reload to try again."))
            await writer.drain()
            return
        try:
            if self._activity is not None:
                # marimo may have restarted while the request waited: it gets the secret of now.
                await relay(with_bearer(head, route.secret), reader, writer, up_reader, up_writer, self._activity)
                return
            up_writer.write(with_bearer(head, route.secret))
            await up_writer.drain()
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        finally:
            await _close(up_writer)


def same_secret(given: bytes | None, expected: str | None) -> bool:
    return bool(given and expected) and hmac.compare_digest(given, expected.encode())
