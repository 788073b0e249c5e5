"""What counts as use of marimo, for idle culling (JupyterHub's idle culler,
Jupyter's own ``shutdown_no_activity_timeout``).

jupyter-server-proxy would count every proxied request, websocket message and
ping as activity, and marimo's server pings its websocket every second, so a
server with a forgotten marimo tab would never look idle. The proxy route has
``update_last_activity`` off; the launcher's front door sees every byte and
judges it here instead:

- activity: a request that is not background polling (opening the page,
  saving, running a cell, installing a package), any websocket message from
  the browser (typing, clicking, running), any message from marimo to the page
  (a cell's output, an install's progress), and, for as long as marimo reports
  a cell running or queued on an open connection, a tick every few seconds (a
  computation that prints nothing is still work);
- not activity: marimo's polling (``api/usage`` every 10 s while its page is
  visible, ``/health``, ``api/status``) and websocket pings and pongs.

The launcher records the time of the last activity as the modification time of
``<state>/run/activity-<port>`` (at most once a second); the Jupyter server
turns it into ``last_activity_times["jupyter_marimo_proxy"]``
(``activity_report.py``), which ``GET api/status`` and jupyterhub-singleuser's
activity reports include.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from pathlib import Path

from ..private_files import PRIVATE_FILE

# Requests marimo's page makes on its own, whether or not anyone is there.
POLLING_PATHS = ("/api/usage", "/health", "/healthz", "/api/status", "/api/version")
# A running cell counts as activity this often (and so never looks idle for longer).
BUSY_TICK_SECONDS = 5.0
# The activity file's mtime moves at most this often.
RECORD_INTERVAL_SECONDS = 1.0
# Cell states in which the kernel is working on the cell.
BUSY_STATES = ("running", "queued")
# Parse cell status updates only in messages up to this size (a larger one is output).
MAX_PARSED_MESSAGE = 1 << 20

_REQUEST_LINE = re.compile(rb"^[A-Z]+ (\S+) HTTP/")


def request_path(head: bytes) -> str:
    match = _REQUEST_LINE.match(head)
    if not match:
        return ""
    return match.group(1).split(b"?", 1)[0].decode("latin-1")


def is_polling(path: str, base_url: str) -> bool:
    """Whether ``path`` is one of marimo's background requests."""
    base = base_url.rstrip("/")
    if base and path.startswith(base):
        path = path[len(base):]
    return path.rstrip("/") in POLLING_PATHS


class ActivityMeter:
    """Notes activity in the activity file, at most once per ``RECORD_INTERVAL_SECONDS``."""

    def __init__(self, path: Path, base_url: str) -> None:
        self.path = path
        self.base_url = base_url
        self.last_recorded = 0.0
        self.pending = False
        self.busy_connections: set[object] = set()
        self._ticker: asyncio.Task | None = None
        self._flusher: asyncio.TimerHandle | None = None

    # -- what happened ----------------------------------------------------------

    def request(self, head: bytes) -> bool:
        """A request arrived; whether it counts. Websocket upgrades count (a page opened)."""
        counts = not is_polling(request_path(head), self.base_url)
        if counts:
            self.note()
        return counts

    def note(self) -> None:
        now = time.time()
        if now - self.last_recorded >= RECORD_INTERVAL_SECONDS:
            self._record(now)
        elif not self.pending:
            # The last activity of a burst is recorded too, a moment later.
            self.pending = True
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return
            self._flusher = loop.call_later(
                RECORD_INTERVAL_SECONDS - (now - self.last_recorded), lambda: self._record(time.time())
            )

    def set_busy(self, connection: object, busy: bool) -> None:
        """``connection`` has (or no longer has) cells running or queued."""
        if busy:
            self.busy_connections.add(connection)
            if self._ticker is None or self._ticker.done():
                self._ticker = asyncio.ensure_future(self._tick_while_busy())
        else:
            self.busy_connections.discard(connection)

    def close(self) -> None:
        for handle in (self._ticker, self._flusher):
            if handle is not None:
                handle.cancel()

    # -- recording --------------------------------------------------------------

    async def _tick_while_busy(self) -> None:
        while self.busy_connections:
            self.note()
            await asyncio.sleep(BUSY_TICK_SECONDS)

    def _record(self, when: float) -> None:
        self.pending = False
        self.last_recorded = when
        try:
            try:
                os.utime(self.path, (when, when))
            except FileNotFoundError:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, PRIVATE_FILE)
                os.close(fd)
                os.utime(self.path, (when, when))
        except OSError:
            pass  # the state dir removed under us: activity is only a hint


class CellStates:
    """Which cells of one marimo session are running, from marimo's ``cell-op`` messages."""

    def __init__(self, meter: ActivityMeter) -> None:
        self.meter = meter
        self.busy: set[str] = set()

    def message(self, payload: bytes) -> None:
        if len(payload) > MAX_PARSED_MESSAGE or b'"cell-op"' not in payload[:64]:
            return
        try:
            data = json.loads(payload).get("data") or {}
        except (ValueError, AttributeError):
            return
        status, cell = data.get("status"), data.get("cell_id")
        if not status or not cell:
            return
        if status in BUSY_STATES:
            self.busy.add(cell)
        else:
            self.busy.discard(cell)
        self.meter.set_busy(self, bool(self.busy))

    def closed(self) -> None:
        # A kernel may go on computing without a tab; nothing here sees it then.
        self.busy.clear()
        self.meter.set_busy(self, False)
