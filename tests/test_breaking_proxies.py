"""marimo through proxies that break websockets (issue #16), channel by channel.

A real Jupyter server with our defaults sits behind ``breaking_proxy.py`` in
each of its modes. For each of marimo's websocket channels (kernel, terminal,
language server, document sync) we check which of our two mechanisms carries
it through that proxy:

- a real websocket with the query string moved into the path
  (``launch/query_in_path.py``), which the page's script opens first;
- the tunnel (an event stream down, POSTs up: ``launch/tunnel.py``), which the
  page's script falls back to when websockets are refused or torn down.

The browser journey through the same proxies is ui-tests/tests/proxies.spec.ts.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid

import aiohttp
import pytest

from breaking_proxy import BreakingProxy
from jupyter_process import JupyterServer
from marimo_kernel import EMPTY_NOTEBOOK, server_token

MODES = ("strip_query", "drop_ws", "no_ws", "buffer")
DROP_AFTER = 10.0


def b64url(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    """Jupyter with our defaults, a breaking proxy per mode in front of it."""
    base = tmp_path_factory.mktemp("proxied")
    server = JupyterServer(root_dir=base / "root", state_dir=base / "state").start()
    proxies = {mode: BreakingProxy(server.port, mode, drop_after=DROP_AFTER).start() for mode in ("plain", *MODES)}
    assert server.get("marimo/").status_code == 200  # marimo started once, for every mode
    yield server, proxies
    for proxy in proxies.values():
        proxy.stop()
    server.stop()


class Channel:
    """One of marimo's websockets, opened through a proxy by one mechanism."""

    def __init__(self, http: aiohttp.ClientSession, proxy_url: str, auth: dict, path: str) -> None:
        self.http, self.proxy_url, self.auth, self.path = http, proxy_url, auth, path
        self.ws = None
        self.stream = None
        self.tunnel_id = None
        self.closed: dict | None = None

    async def open_websocket(self) -> None:
        """As the page's script does first: the query rides in the path."""
        path, _, query = self.path.partition("?")
        route, _, rest = path.partition("marimo/")
        if query:
            path = f"{route}marimo/_jmp_q/{b64url(query)}/{rest}"
        url = self.proxy_url.replace("http://", "ws://").rstrip("/") + path
        self.ws = await self.http.ws_connect(url, headers=self.auth, max_msg_size=0, autoping=True)

    async def open_tunnel(self) -> None:
        url = self.proxy_url.rstrip("/") + "/marimo/_jmp_tunnel/open/" + b64url(self.path)
        self.stream = await self.http.get(url, headers={**self.auth, "Accept": "text/event-stream"})
        assert self.stream.status == 200, self.stream.status
        assert self.stream.headers["Content-Type"].startswith("text/event-stream")
        kind, data = await self._event()
        assert kind == "open", (kind, data)
        self.tunnel_id = data["id"]

    async def _event(self) -> tuple[str | None, dict]:
        name, data = None, []
        while True:
            line = (await self.stream.content.readline()).decode()
            if not line:
                return "eof", {}
            line = line.rstrip("\r\n")
            if line == "":
                if data:
                    return name, json.loads("\n".join(data))
                continue
            if line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)

    async def recv(self, timeout: float = 60) -> str | bytes | None:
        """The next message; None once the channel closed (``self.closed`` says how)."""
        if self.ws is not None:
            message = await asyncio.wait_for(self.ws.receive(), timeout)
            if message.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                return message.data
            self.closed = {"code": self.ws.close_code}
            return None
        kind, data = await asyncio.wait_for(self._event(), timeout)
        if kind in ("close", "eof"):
            self.closed = data
            return None
        return data["t"] if "t" in data else base64.b64decode(data["b"])

    async def send(self, text: str) -> None:
        if self.ws is not None:
            await self.ws.send_str(text)
            return
        url = self.proxy_url.rstrip("/") + f"/marimo/_jmp_tunnel/send/{self.tunnel_id}"
        async with self.http.post(url, headers=self.auth, json=[{"t": text}]) as response:
            assert response.status == 204, response.status

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.stream is not None:
            self.stream.close()


async def open_channel(proxy: BreakingProxy, server: JupyterServer, path: str, how: str, http) -> Channel:
    channel = Channel(http, proxy.url, server.auth, path)
    await (channel.open_websocket() if how == "websocket" else channel.open_tunnel())
    return channel


async def kernel_output(channel: Channel, server: JupyterServer, proxy: BreakingProxy, session_id: str, code: str, http) -> str:
    """Run ``code`` in a new cell (POST through the proxy); its stdout, read from ``channel``."""
    cell_id = "c" + uuid.uuid4().hex[:6]
    headers = {**server.auth, "Marimo-Session-Id": session_id, "Marimo-Server-Token": await server_token_of(server)}
    async with http.post(proxy.url + "marimo/api/kernel/run", headers=headers, json={"cellIds": [cell_id], "codes": [code]}) as response:
        assert response.status == 200, await response.text()
    output = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        raw = await channel.recv(deadline - time.monotonic())
        assert raw is not None, f"channel closed: {channel.closed}"
        message = json.loads(raw)
        data = message.get("data") or {}
        if message.get("op") != "cell-op" or data.get("cell_id") != cell_id:
            continue
        consoles = data.get("console") or []
        for item in consoles if isinstance(consoles, list) else [consoles]:
            output.append(str(item.get("data", "")))
        if data.get("status") == "idle":
            return "".join(output)
    raise TimeoutError("".join(output))


_tokens: dict = {}


async def server_token_of(server: JupyterServer) -> str:
    """marimo's skew-protection token (one per marimo start), as its page carries it."""
    if server.port not in _tokens:
        (server.root_dir / "token_probe.py").write_text(EMPTY_NOTEBOOK)
        _tokens[server.port] = await asyncio.to_thread(server_token, server, "token_probe.py")
    return _tokens[server.port]


async def first_kernel_message(channel: Channel) -> dict:
    while True:
        raw = await channel.recv()
        assert raw is not None, f"kernel channel closed: {channel.closed}"
        message = json.loads(raw)
        if message.get("op") == "kernel-ready":
            return message


# -- the page ---------------------------------------------------------------------


def test_marimo_page_carries_the_connection_script_and_no_secret(proxied):
    server, proxies = proxied
    import requests

    page = requests.get(proxies["buffer"].url + "marimo/", headers=server.auth, timeout=60).text
    assert 'data-jupyter-marimo-proxy="connection"' in page
    assert "'/marimo/'" in page  # the route's base, for the script
    assert page.index("data-jupyter-marimo-proxy") < page.index("<marimo-version")
    secret = next((server.state_dir / "run").glob("secret-*")).read_text()
    assert secret not in page


def test_tunnel_and_query_in_path_refuse_requests_without_the_secret(proxied):
    """Straight to the launcher's port (as another account on the machine could)."""
    server, _ = proxied
    import requests

    port = server.status()["marimo"]["port"]
    for path in ("/marimo/_jmp_tunnel/open/" + b64url("/marimo/ws?session_id=x&file=a.py"), "/marimo/_jmp_q/" + b64url("file=a.py") + "/"):
        answer = requests.get(f"http://127.0.0.1:{port}{path}", headers={"Accept": "text/event-stream"}, timeout=30)
        assert answer.status_code == 401
    # Through Jupyter without Jupyter's login: refused before marimo's launcher.
    anonymous = requests.get(server.url + "marimo/_jmp_tunnel/open/" + b64url("/marimo/ws"), timeout=30, allow_redirects=False)
    assert anonymous.status_code in (302, 403)


def test_tunnel_target_must_stay_under_the_route(proxied):
    server, _ = proxied
    import requests

    outside = server.get("marimo/_jmp_tunnel/open/" + b64url("/api/contents"), headers={"Accept": "text/event-stream"})
    assert outside.status_code == 400


# -- kernel -------------------------------------------------------------------------

KERNEL_MECHANISM = {
    # What the page's script ends up using in each mode (the table in the README's
    # and docs/deploy/sagemaker.md's words): a websocket where one survives.
    "strip_query": "websocket",
    "drop_ws": "websocket",  # until the first drop; then the tunnel (test below)
    "no_ws": "tunnel",
    "buffer": "websocket",
}


@pytest.mark.parametrize("mode", MODES)
def test_kernel_channel_runs_a_cell(proxied, mode):
    server, proxies = proxied
    notebook = f"kernel_{mode}.py"
    (server.root_dir / notebook).write_text(EMPTY_NOTEBOOK)
    session_id = "s_" + uuid.uuid4().hex[:8]

    async def journey() -> str:
        async with aiohttp.ClientSession() as http:
            channel = await open_channel(
                proxies[mode], server, f"/marimo/ws?session_id={session_id}&file={notebook}", KERNEL_MECHANISM[mode], http
            )
            try:
                await first_kernel_message(channel)
                return await kernel_output(channel, server, proxies[mode], session_id, "print(6 * 7)", http)
            finally:
                await channel.close()

    assert asyncio.run(journey()).strip() == "42"


def test_websockets_are_refused_in_no_ws_mode_and_the_tunnel_is_not(proxied):
    server, proxies = proxied

    async def attempt() -> None:
        async with aiohttp.ClientSession() as http:
            with pytest.raises(aiohttp.WSServerHandshakeError):
                await open_channel(proxies["no_ws"], server, "/marimo/ws?session_id=s_x&file=x.py", "websocket", http)

    asyncio.run(attempt())
    assert proxies["no_ws"].counts["ws_refused"] >= 1


def test_query_string_survives_a_proxy_that_strips_it(proxied):
    server, proxies = proxied
    proxy = proxies["strip_query"]
    (server.root_dir / "strip.py").write_text(EMPTY_NOTEBOOK)

    async def both() -> tuple[dict | None, dict]:
        async with aiohttp.ClientSession() as http:
            # As marimo's page opens it: the query is stripped and marimo closes the socket.
            plain = await http.ws_connect(
                proxy.url.replace("http", "ws") + "marimo/ws?session_id=s_strip&file=strip.py", headers=server.auth
            )
            message = await asyncio.wait_for(plain.receive(), 60)
            refused = {"type": message.type, "code": plain.close_code}
            await plain.close()
            moved = await open_channel(proxy, server, "/marimo/ws?session_id=s_strip2&file=strip.py", "websocket", http)
            ready = await first_kernel_message(moved)
            await moved.close()
            return refused, ready

    refused, ready = asyncio.run(both())
    assert refused["type"] in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING), refused
    assert ready["op"] == "kernel-ready"
    assert any(path.startswith("/marimo/_jmp_q/") for path in proxy.websocket_paths)


def test_session_and_outputs_survive_a_torn_down_websocket(proxied):
    """drop_ws: the websocket dies after 10 s; the page reconnects over the tunnel
    with the same session id and gets the same kernel with its outputs."""
    server, proxies = proxied
    proxy = proxies["drop_ws"]
    (server.root_dir / "dropped.py").write_text(EMPTY_NOTEBOOK)
    session_id = "s_" + uuid.uuid4().hex[:8]
    path = f"/marimo/ws?session_id={session_id}&file=dropped.py"

    async def journey() -> tuple[dict, str]:
        async with aiohttp.ClientSession() as http:
            first = await open_channel(proxy, server, path, "websocket", http)
            await first_kernel_message(first)
            assert (await kernel_output(first, server, proxy, session_id, "kept = 'still here'; print(kept)", http)).strip() == "still here"
            dropped_at = time.monotonic()
            while await first.recv(DROP_AFTER + 30) is not None:
                pass
            assert time.monotonic() - dropped_at < DROP_AFTER + 5
            assert first.closed["code"] in (1006, None), first.closed
            again = await open_channel(proxy, server, path, "tunnel", http)
            ready = json.loads(await again.recv())
            out = await kernel_output(again, server, proxy, session_id, "print(kept.upper())", http)
            await again.close()
            return ready, out

    ready, out = asyncio.run(journey())
    # The same session, not a new kernel: marimo says so, and the variable is still there.
    assert ready["op"] == "reconnected", ready
    assert out.strip() == "STILL HERE"
    assert proxy.counts["ws_dropped"] >= 1


# -- terminal, language server, sync ------------------------------------------------

CHANNEL_PATHS = {
    "terminal": "/marimo/terminal/ws?rows=24&cols=80",
    "sync": "/marimo/ws_sync?file={file}",
    "language_server": "/marimo/lsp/pylsp",
}


@pytest.mark.parametrize("mode", MODES)
def test_terminal_channel(proxied, mode):
    server, proxies = proxied
    how = "tunnel" if mode == "no_ws" else "websocket"

    async def journey() -> str:
        async with aiohttp.ClientSession() as http:
            channel = await open_channel(proxies[mode], server, CHANNEL_PATHS["terminal"], how, http)
            try:
                await channel.send("echo jmp-$((6*7))\r")
                seen = ""
                deadline = time.monotonic() + 30
                while "jmp-42" not in seen and time.monotonic() < deadline:
                    chunk = await channel.recv(deadline - time.monotonic())
                    assert chunk is not None, channel.closed
                    seen += chunk if isinstance(chunk, str) else chunk.decode(errors="replace")
                return seen
            finally:
                await channel.close()

    assert "jmp-42" in asyncio.run(journey())


def test_sync_and_language_server_handshakes_reach_marimo_through_the_tunnel(proxied):
    """marimo's defaults open neither (real-time collaboration is off; no language
    server is enabled), so marimo refuses the sync handshake itself (403) and
    its language-server proxy accepts one without a server behind it. Through a
    proxy that refuses websockets, the tunnel still delivers marimo's own answer:
    with the setting on, the same path carries them."""
    server, proxies = proxied
    (server.root_dir / "sync.py").write_text(EMPTY_NOTEBOOK)

    async def answer(path: str) -> dict:
        async with aiohttp.ClientSession() as http:
            channel = Channel(http, proxies["no_ws"].url, server.auth, path)
            channel.stream = await http.get(
                proxies["no_ws"].url + "marimo/_jmp_tunnel/open/" + b64url(path),
                headers={**server.auth, "Accept": "text/event-stream"},
            )
            kind, data = await asyncio.wait_for(channel._event(), 60)
            channel.stream.close()
            return {"kind": kind, **data}

    sync = asyncio.run(answer(CHANNEL_PATHS["sync"].format(file="sync.py")))
    assert sync == {"kind": "close", "code": 1006, "reason": "marimo answered 403"}
    # marimo's language-server proxy accepts the websocket (it starts a server on demand).
    assert asyncio.run(answer(CHANNEL_PATHS["language_server"]))["kind"] == "open"


def test_long_lived_event_stream_through_the_route(proxied):
    """The tunnel's event stream is streamed by jupyter-server-proxy (the request
    accepts text/event-stream) and stays open across idle time: events sent
    after a quiet spell still arrive on the same response."""
    server, proxies = proxied
    (server.root_dir / "long.py").write_text(EMPTY_NOTEBOOK)
    session_id = "s_" + uuid.uuid4().hex[:8]

    async def journey() -> str:
        async with aiohttp.ClientSession() as http:
            channel = await open_channel(proxies["buffer"], server, f"/marimo/ws?session_id={session_id}&file=long.py", "tunnel", http)
            await first_kernel_message(channel)
            await asyncio.sleep(20)  # longer than the tunnel's heartbeat
            out = await kernel_output(channel, server, proxies["buffer"], session_id, "print('late')", http)
            await channel.close()
            return out

    assert asyncio.run(journey()).strip() == "late"
