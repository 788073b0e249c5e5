"""A reverse proxy in front of Jupyter that breaks websockets the ways hosted platforms do.

One mode per failure reported in the field (issue #16):

- ``plain``: passes everything (the control);
- ``strip_query``: websocket upgrades reach Jupyter without their query string
  (reported for SageMaker Studio's proxy: marimo's ``/ws?session_id=…`` arrives as ``/ws``);
- ``drop_ws``: every websocket is torn down (no close frame) after ``drop_after``
  seconds (SageMaker notebook instances, marimo #10276: every 10–13 s);
- ``no_ws``: websocket upgrades are refused outright (403);
- ``buffer``: every HTTP response is delivered only once complete, unless it is
  an event stream (``Content-Type: text/event-stream``); websockets pass.

The Host header is passed unchanged, as a platform's proxy does, so Jupyter's
origin checks see the browser's own origin. Runs on its own thread and event
loop (``BreakingProxy(...).start()``) or as a program for the browser tests:
``python tests/breaking_proxy.py --upstream 8899 --port 8900:plain --port 8901:no_ws``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
import time
from collections import Counter

import aiohttp
from aiohttp import web

MODES = ("plain", "strip_query", "drop_ws", "no_ws", "buffer")
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "content-length",
}
WS_HANDSHAKE = {"sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-accept"}


class BreakingProxy:
    def __init__(self, upstream_port: int, mode: str, port: int = 0, drop_after: float = 10.0) -> None:
        assert mode in MODES, mode
        self.upstream = f"127.0.0.1:{upstream_port}"
        self.mode = mode
        self.port = port
        self.drop_after = drop_after
        # What happened, for tests: websocket attempts, refusals, drops; paths of streamed responses.
        self.counts: Counter = Counter()
        self.websocket_paths: list[str] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    # -- life -------------------------------------------------------------------

    async def serve(self) -> None:
        self._session = aiohttp.ClientSession(
            auto_decompress=False, timeout=aiohttp.ClientTimeout(total=None, sock_connect=30)
        )
        app = web.Application(client_max_size=256 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    def start(self) -> "BreakingProxy":
        ready = threading.Event()

        def run() -> None:
            self.loop = asyncio.new_event_loop()
            self.loop.run_until_complete(self.serve())
            ready.set()
            self.loop.run_forever()
            self.loop.run_until_complete(self.close())
            self.loop.close()

        self._thread = threading.Thread(target=run, name=f"breaking-proxy-{self.mode}", daemon=True)
        self._thread.start()
        if not ready.wait(30):
            raise RuntimeError("breaking proxy did not start")
        return self

    def stop(self) -> None:
        if self.loop is not None and self._thread is not None:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)

    # -- requests ---------------------------------------------------------------

    def _headers(self, request: web.Request, websocket: bool) -> dict[str, str]:
        drop = HOP_BY_HOP | (WS_HANDSHAKE if websocket else set())
        headers: dict[str, str] = {}
        for key, value in request.headers.items():
            if key.lower() in drop:
                continue
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        return headers

    async def handle(self, request: web.Request) -> web.StreamResponse:
        is_upgrade = request.headers.get("Upgrade", "").lower() == "websocket"
        if is_upgrade:
            return await self.websocket(request)
        return await self.http(request)

    async def http(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        body = await request.read()
        async with self._session.request(
            request.method,
            f"http://{self.upstream}{request.path_qs}",
            headers=self._headers(request, False),
            data=body if body else None,
            allow_redirects=False,
        ) as upstream:
            headers = [(k, v) for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP]
            event_stream = upstream.headers.get("Content-Type", "").startswith("text/event-stream")
            if self.mode == "buffer" and not event_stream:
                data = await upstream.read()
                response = web.Response(status=upstream.status, body=data)
                for key, value in headers:
                    response.headers.add(key, value)
                return response
            if event_stream:
                self.counts["event_streams"] += 1
            response = web.StreamResponse(status=upstream.status)
            for key, value in headers:
                response.headers.add(key, value)
            await response.prepare(request)
            try:
                async for chunk in upstream.content.iter_any():
                    await response.write(chunk)
            except (aiohttp.ClientError, ConnectionError):
                pass
            return response

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        self.counts["ws_attempts"] += 1
        if self.mode == "no_ws":
            self.counts["ws_refused"] += 1
            return web.Response(status=403, text="websockets are not allowed here")
        path = request.path if self.mode == "strip_query" else request.path_qs
        self.websocket_paths.append(path)
        try:
            upstream = await self._session.ws_connect(
                f"ws://{self.upstream}{path}",
                headers=self._headers(request, True),
                max_msg_size=0,
                autoping=True,
            )
        except aiohttp.WSServerHandshakeError as error:
            return web.Response(status=error.status or 502, text="upstream refused the websocket")
        browser = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await browser.prepare(request)
        self.counts["ws_opened"] += 1

        async def pipe(source, sink) -> None:
            async for message in source:
                if message.type == aiohttp.WSMsgType.TEXT:
                    await sink.send_str(message.data)
                elif message.type == aiohttp.WSMsgType.BINARY:
                    await sink.send_bytes(message.data)
                else:
                    break

        tasks = [
            asyncio.ensure_future(pipe(browser, upstream)),
            asyncio.ensure_future(pipe(upstream, browser)),
        ]
        timeout = self.drop_after if self.mode == "drop_ws" else None
        done, _ = await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if not done:
            # Torn down, not closed: no close frame either way (the browser sees 1006).
            self.counts["ws_dropped"] += 1
            if request.transport is not None:
                request.transport.abort()
            await upstream.close()
            return browser
        close_code = upstream.close_code if upstream.closed else None
        await upstream.close()
        await browser.close(code=close_code or aiohttp.WSCloseCode.OK)
        return browser


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", type=int, required=True, help="Jupyter's port on 127.0.0.1")
    parser.add_argument("--port", action="append", default=[], help="PORT:MODE, repeatable")
    parser.add_argument("--drop-after", type=float, default=10.0)
    args = parser.parse_args(argv)
    parent = os.getppid()
    proxies = []
    for item in args.port:
        port, mode = item.split(":", 1)
        proxies.append(BreakingProxy(args.upstream, mode, int(port), args.drop_after).start())
        print(f"breaking proxy {mode} on {proxies[-1].url} -> :{args.upstream}", flush=True)
    # Ends with whoever started it (Jupyter, for the browser tests).
    while os.getppid() == parent:
        time.sleep(0.5)
    for proxy in proxies:
        proxy.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
