"""A websocket carried over an event stream and POSTs, for proxies that break websockets.

Some proxies in front of Jupyter refuse websocket upgrades, or cut every
websocket after a few seconds (SageMaker notebook instances, marimo #10276).
marimo's own ``sse`` transport covers its kernel channel only; its terminal,
language server and document sync still need websockets. So the script our
route adds to marimo's page (``connection_shim.py``) can carry any of marimo's
websockets as plain HTTP through Jupyter's route instead, and the launcher's
front door (which holds marimo's secret) opens the real websocket to marimo on
loopback:

- ``GET <base>/_jmp_tunnel/open/<target, base64url>`` (``Accept:
  text/event-stream``, which jupyter-server-proxy streams): the front door
  opens the websocket ``<target>`` to marimo and streams its messages as
  events: ``open`` (the tunnel's id), unnamed events ``{"t": text}`` or
  ``{"b": base64}``, and ``close`` (``{"code", "reason"}``). A comment line
  every 15 s keeps idle proxies from timing the stream out.
- ``POST <base>/_jmp_tunnel/send/<id>`` with a JSON list of such messages:
  written to marimo's websocket in order.
- ``POST <base>/_jmp_tunnel/close/<id>``: closes it.

Every one of these requests comes through Jupyter's login and carries the
proxy's bearer secret like any other (the front door checks it before this
module sees the request); the target must lie under the same base URL; the
browser never sees the secret. The stream ending (tab closed, proxy cut it)
closes marimo's websocket, as a dropped websocket would.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import secrets

from .activity import ActivityMeter, CellStates
from .query_in_path import decode_query
from .relay import OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT, read_frame

MARKER = b"/_jmp_tunnel/"
HEARTBEAT_SECONDS = 15.0
HANDSHAKE_TIMEOUT = 30.0
MAX_POST_BYTES = 64 * 1024 * 1024

_REQUEST_LINE = re.compile(rb"^([A-Z]+) (\S+) HTTP/\d\.\d")


def is_tunnel_request(head: bytes) -> bool:
    match = _REQUEST_LINE.match(head)
    return bool(match) and MARKER in match.group(2).split(b"?", 1)[0]


def header_value(head: bytes, name: bytes) -> bytes | None:
    request = head.split(b"\r\n\r\n", 1)[0]
    for line in request.split(b"\r\n")[1:]:
        key, sep, value = line.partition(b":")
        if sep and key.strip().lower() == name.lower():
            return value.strip()
    return None


def masked_frame(opcode: int, payload: bytes) -> bytes:
    """One whole message as a client sends it (masked), any length."""
    length = len(payload)
    if length < 126:
        header = bytes([0x80 | opcode, 0x80 | length])
    elif length < 1 << 16:
        header = bytes([0x80 | opcode, 0x80 | 126]) + length.to_bytes(2, "big")
    else:
        header = bytes([0x80 | opcode, 0x80 | 127]) + length.to_bytes(8, "big")
    key = os.urandom(4)
    if not payload:
        return header + key
    whole = (key * (length // 4 + 1))[:length]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(whole, "big")).to_bytes(length, "big")
    return header + key + masked


def event(data: object, name: str | None = None) -> bytes:
    text = json.dumps(data, separators=(",", ":"))
    return ((f"event: {name}\n" if name else "") + f"data: {text}\n\n").encode("utf-8")


def response_head(status: str, extra: tuple[str, ...] = ()) -> bytes:
    lines = [f"HTTP/1.1 {status}", "Cache-Control: no-store", "Connection: close", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def plain(status: str, body: str = "") -> bytes:
    data = body.encode("utf-8")
    return response_head(status, (f"Content-Length: {len(data)}", "Content-Type: text/plain; charset=utf-8")) + data


STREAM_HEAD = response_head(
    "200 OK",
    (
        "Content-Type: text/event-stream",
        # No proxy on the way may hold events back (nginx reads this one).
        "Cache-Control: no-cache, no-transform",
        "X-Accel-Buffering: no",
    ),
)


class Tunnel:
    """One websocket to marimo, written to by POSTs."""

    def __init__(self, up_writer: asyncio.StreamWriter, meter: ActivityMeter | None) -> None:
        self.id = secrets.token_urlsafe(18)
        self.up_writer = up_writer
        self.meter = meter
        self.lock = asyncio.Lock()
        self.closed = False

    async def send(self, frames: list[bytes]) -> None:
        async with self.lock:
            for frame in frames:
                self.up_writer.write(frame)
            await self.up_writer.drain()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self.closed:
            return
        self.closed = True
        try:
            await self.send([masked_frame(OP_CLOSE, code.to_bytes(2, "big") + reason.encode("utf-8")[:120])])
        except (ConnectionError, OSError):
            pass


class Tunnels:
    """The open tunnels of one launcher, by id."""

    def __init__(self, activity: ActivityMeter | None = None) -> None:
        self.activity = activity
        self.open: dict[str, Tunnel] = {}

    async def serve(self, head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, route) -> None:
        match = _REQUEST_LINE.match(head)
        assert match is not None
        method, target = match.group(1), match.group(2).split(b"?", 1)[0]
        at = target.find(MARKER)
        prefix = target[:at]
        action, _, argument = target[at + len(MARKER):].partition(b"/")
        if method == b"GET" and action == b"open":
            await self._stream(prefix, argument, head, reader, writer, route)
            return
        if method == b"POST" and action in (b"send", b"close"):
            body = await read_body(head, reader)
            tunnel = self.open.get(argument.decode("latin-1"))
            if body is None:
                writer.write(plain("400 Bad Request", "bad body"))
            elif tunnel is None or tunnel.closed:
                writer.write(plain("404 Not Found", "no such tunnel (closed?)"))
            else:
                await self._post(tunnel, action, body, writer)
            await writer.drain()
            return
        writer.write(plain("404 Not Found"))
        await writer.drain()

    async def _post(self, tunnel: Tunnel, action: bytes, body: bytes, writer: asyncio.StreamWriter) -> None:
        try:
            data = json.loads(body or b"null")
            if action == b"close":
                data = data or {}
                await tunnel.close(int(data.get("code") or 1000), str(data.get("reason") or ""))
            else:
                frames = [
                    masked_frame(OP_TEXT, m["t"].encode("utf-8")) if "t" in m else masked_frame(OP_BINARY, base64.b64decode(m["b"]))
                    for m in data
                ]
                if frames and self.activity is not None:
                    self.activity.note()  # typing, running, clicking: the user is there
                await tunnel.send(frames)
        except (ValueError, TypeError, KeyError, AttributeError):
            writer.write(plain("400 Bad Request", "bad message"))
            return
        except (ConnectionError, OSError):
            writer.write(plain("404 Not Found", "tunnel closed"))
            return
        writer.write(response_head("204 No Content", ("Content-Length: 0",)))

    async def _stream(self, prefix: bytes, argument: bytes, head: bytes, reader, writer, route) -> None:
        target = decode_query(argument)
        if target is None or not target.startswith(prefix + b"/") or any(c in target for c in b"\r\n #"):
            writer.write(plain("400 Bad Request", "bad tunnel target"))
            await writer.drain()
            return
        if self.activity is not None:
            self.activity.request(b"GET " + target + b" HTTP/1.1\r\n")
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", route.marimo_port)
        except OSError:
            writer.write(plain("502 Bad Gateway", "marimo stopped"))
            await writer.drain()
            return
        try:
            lines = [
                b"GET " + target + b" HTTP/1.1",
                b"Host: " + (header_value(head, b"host") or b"127.0.0.1"),
                b"Upgrade: websocket",
                b"Connection: Upgrade",
                b"Sec-WebSocket-Key: " + base64.b64encode(os.urandom(16)),
                b"Sec-WebSocket-Version: 13",
                b"Authorization: Bearer " + route.secret.encode(),
            ]
            origin = header_value(head, b"origin")
            if origin:
                lines.append(b"Origin: " + origin)
            up_writer.write(b"\r\n".join(lines) + b"\r\n\r\n")
            await up_writer.drain()
            answer = await asyncio.wait_for(up_reader.readuntil(b"\r\n\r\n"), HANDSHAKE_TIMEOUT)
            writer.write(STREAM_HEAD)
            status = answer.split(b" ", 2)[1:2]
            if status != [b"101"]:
                writer.write(event({"code": 1006, "reason": f"marimo answered {status[0].decode() if status else '?'}"}, "close"))
                await writer.drain()
                return
            tunnel = Tunnel(up_writer, self.activity)
            self.open[tunnel.id] = tunnel
            try:
                writer.write(event({"id": tunnel.id}, "open"))
                await writer.drain()
                await self._pump(tunnel, reader, writer, up_reader)
            finally:
                self.open.pop(tunnel.id, None)
                await tunnel.close(1001, "tunnel stream ended")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError, ConnectionError, OSError):
            pass
        finally:
            up_writer.close()

    async def _pump(self, tunnel: Tunnel, reader, writer, up_reader) -> None:
        """marimo's messages to the stream until either side ends."""
        cells = CellStates(self.activity) if self.activity is not None else None

        async def from_marimo() -> None:
            parts: list[bytes] = []
            kind = OP_TEXT
            try:
                while True:
                    _, opcode, fin, payload, _ = await read_frame(up_reader)  # server frames are unmasked
                    if opcode == OP_PING:
                        await tunnel.send([masked_frame(OP_PONG, payload[:125])])
                        continue
                    if opcode == OP_CLOSE:
                        code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                        reason = payload[2:].decode("utf-8", errors="replace")
                        writer.write(event({"code": code, "reason": reason}, "close"))
                        await writer.drain()
                        tunnel.closed = True  # marimo closed it: answer its close, then stop
                        await tunnel.send([masked_frame(OP_CLOSE, payload[:2])])
                        return
                    if opcode not in (OP_TEXT, OP_BINARY, OP_CONTINUATION):
                        continue
                    if opcode != OP_CONTINUATION:
                        kind, parts = opcode, []
                    parts.append(payload)
                    if not fin:
                        continue
                    message = b"".join(parts)
                    parts = []
                    if self.activity is not None:
                        self.activity.note()  # output, progress: marimo is working for the page
                    if kind == OP_TEXT:
                        if cells is not None:
                            cells.message(message)
                        writer.write(event({"t": message.decode("utf-8", errors="replace")}))
                    else:
                        writer.write(event({"b": base64.b64encode(message).decode("ascii")}))
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError, OSError):
                writer.write(event({"code": 1006, "reason": "marimo went away"}, "close"))

        async def heartbeat() -> None:
            while True:
                await asyncio.sleep(HEARTBEAT_SECONDS)
                writer.write(b": keep-alive\n\n")
                await writer.drain()

        async def browser_gone() -> None:
            # The proxy sends nothing more on this connection; EOF means it went away.
            while await reader.read(65536):
                pass

        tasks = [asyncio.ensure_future(job()) for job in (from_marimo, heartbeat, browser_gone)]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if cells is not None:
                cells.closed()


async def read_body(head: bytes, reader: asyncio.StreamReader) -> bytes | None:
    """The request's body (Content-Length only), counting what came with the head."""
    _, _, early = head.partition(b"\r\n\r\n")
    length = header_value(head, b"content-length")
    try:
        size = int(length) if length is not None else 0
    except ValueError:
        return None
    if size < 0 or size > MAX_POST_BYTES:
        return None
    if len(early) >= size:
        return early[:size]
    try:
        return early + await reader.readexactly(size - len(early))
    except asyncio.IncompleteReadError:
        return None
