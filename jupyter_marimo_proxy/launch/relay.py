"""Relaying one authorised connection to marimo while judging what is activity.

Plain requests are copied byte for byte. A websocket is relayed frame by
frame (each frame forwarded unchanged), so that:

- marimo's pings (one a second) are answered here and not passed on. Passed
  on, jupyter-server-proxy would ping the browser every second and the
  browser's pongs would look like use to JupyterHub's proxy, which counts any
  byte from the browser on a websocket;
- messages are classified by ``activity.py`` (the browser's messages and
  marimo's messages to the page are use; a cell running keeps ticking).

The websocket request loses its ``Sec-WebSocket-Extensions`` header, so marimo
never compresses frames (their content stays readable to the classifier; on
loopback compression only costs CPU).
"""

from __future__ import annotations

import asyncio
import os
import re

from .activity import ActivityMeter, CellStates

COPY_CHUNK = 64 * 1024
MAX_FRAME_BYTES = 256 * 1024 * 1024

OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
DATA_OPCODES = (OP_CONTINUATION, OP_TEXT, OP_BINARY)

_UPGRADE = re.compile(rb"^upgrade:[ \t]*websocket[ \t]*$", re.IGNORECASE | re.MULTILINE)
_EXTENSIONS = re.compile(rb"^sec-websocket-extensions:", re.IGNORECASE)


def is_websocket(head: bytes) -> bool:
    return bool(_UPGRADE.search(head.split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b"\n")))


def without_extensions(head: bytes) -> bytes:
    request, sep, rest = head.partition(b"\r\n\r\n")
    lines = [line for line in request.split(b"\r\n") if not _EXTENSIONS.match(line)]
    return b"\r\n".join(lines) + sep + rest


class PrefixedReader:
    """A stream reader that first returns bytes already read from it."""

    def __init__(self, prefix: bytes, reader: asyncio.StreamReader) -> None:
        self.prefix = prefix
        self.reader = reader

    async def readexactly(self, n: int) -> bytes:
        if not self.prefix:
            return await self.reader.readexactly(n)
        taken, self.prefix = self.prefix[:n], self.prefix[n:]
        if len(taken) < n:
            taken += await self.reader.readexactly(n - len(taken))
        return taken


def _unmask(payload: bytes, key: bytes) -> bytes:
    if not key:
        return payload
    whole = (key * (len(payload) // 4 + 1))[: len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(whole, "big")).to_bytes(len(payload), "big")


async def read_frame(reader) -> tuple[bytes, int, bool, bytes, bytes]:
    """(the frame's bytes as received, opcode, fin, payload as received, mask key)."""
    first = await reader.readexactly(2)
    fin, opcode = bool(first[0] & 0x80), first[0] & 0x0F
    masked, length = bool(first[1] & 0x80), first[1] & 0x7F
    header = first
    if length == 126:
        extra = await reader.readexactly(2)
        header, length = header + extra, int.from_bytes(extra, "big")
    elif length == 127:
        extra = await reader.readexactly(8)
        header, length = header + extra, int.from_bytes(extra, "big")
    if length > MAX_FRAME_BYTES:
        raise ConnectionError("websocket frame too large")
    key = await reader.readexactly(4) if masked else b""
    payload = await reader.readexactly(length) if length else b""
    return header + key + payload, opcode, fin, payload, key


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked single-frame message, as a client must send (payload <= 125 bytes)."""
    key = os.urandom(4)
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + key + _unmask(payload, key)


async def pipe(reader, writer: asyncio.StreamWriter) -> None:
    """Copy bytes one way until the reader ends, then pass the end on (half-close)."""
    try:
        while chunk := await reader.read(COPY_CHUNK):
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        _eof(writer)


def _eof(writer: asyncio.StreamWriter) -> None:
    try:
        if writer.can_write_eof():
            writer.write_eof()
    except (OSError, RuntimeError):
        pass


async def relay(
    head: bytes,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    up_reader: asyncio.StreamReader,
    up_writer: asyncio.StreamWriter,
    meter: ActivityMeter,
) -> None:
    """Send ``head`` (the request as received so far, secret already set) to
    marimo and relay the connection both ways until either side ends."""
    meter.request(head)
    if not is_websocket(head):
        up_writer.write(head)
        await up_writer.drain()
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        return
    request, _, early = without_extensions(head).partition(b"\r\n\r\n")
    up_writer.write(request + b"\r\n\r\n")
    await up_writer.drain()
    answer = await up_reader.readuntil(b"\r\n\r\n")
    writer.write(answer)
    await writer.drain()
    if answer.split(b" ", 2)[1:2] != [b"101"]:
        if early:
            up_writer.write(early)
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        return
    await _relay_frames(PrefixedReader(early, reader), writer, up_reader, up_writer, meter)


async def _relay_frames(client, writer, up_reader, up_writer, meter: ActivityMeter) -> None:
    to_marimo = asyncio.Lock()  # our pongs go in between the browser's frames, never inside one
    cells = CellStates(meter)

    async def from_browser() -> None:
        try:
            while True:
                raw, opcode, _, _, _ = await read_frame(client)
                if opcode in DATA_OPCODES:
                    meter.note()  # typing, running, clicking: the user is there
                async with to_marimo:
                    up_writer.write(raw)
                    await up_writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            _eof(up_writer)

    async def from_marimo() -> None:
        try:
            while True:
                raw, opcode, fin, payload, key = await read_frame(up_reader)
                if opcode == OP_PING:
                    async with to_marimo:
                        up_writer.write(client_frame(OP_PONG, _unmask(payload, key)[:125]))
                        await up_writer.drain()
                    continue
                if opcode in DATA_OPCODES:
                    meter.note()  # output, progress: marimo is working for the page
                    if opcode == OP_TEXT and fin:
                        cells.message(_unmask(payload, key))
                writer.write(raw)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            cells.closed()
            _eof(writer)

    await asyncio.gather(from_browser(), from_marimo())
