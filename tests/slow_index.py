"""A find-links page on loopback whose one wheel downloads very slowly:
an install that is still running when the test cancels it."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from wheels import build_wheel

SLOW_PACKAGE = "jmp-slow"


class SlowIndex:
    def __init__(self, folder: Path, delay: float = 120.0) -> None:
        self.wheel = build_wheel(folder, SLOW_PACKAGE)
        self.delay = delay
        self.released = threading.Event()
        self.requested = threading.Event()
        index = self

        class Handler(BaseHTTPRequestHandler):
            def do_HEAD(self) -> None:  # noqa: N802 - uv asks with HEAD first
                self.do_GET(body=False)

            def do_GET(self, body: bool = True) -> None:  # noqa: N802
                if self.path.rstrip("/") == "":
                    page = f'<html><body><a href="/{index.wheel.name}">{index.wheel.name}</a></body></html>'.encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(page)))
                    self.end_headers()
                    if body:
                        self.wfile.write(page)
                    return
                if self.path.lstrip("/") == index.wheel.name:
                    index.requested.set()
                    index.released.wait(index.delay)
                    data = index.wheel.read_bytes()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if body:
                        self.wfile.write(data)
                    return
                self.send_error(404)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()
