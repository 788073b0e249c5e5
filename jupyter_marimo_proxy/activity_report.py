"""marimo's use, as the launcher judged it, in the Jupyter server's ``last_activity``.

The launcher touches ``<state>/run/activity-<port>`` when marimo is used
(``launch/activity.py``); the marimo route itself does not count proxied
traffic (``update_last_activity`` is off: marimo's pings would make every
server look busy forever). Once a second this reads the file of each of this
server's launches, so ``GET api/status``, Jupyter's own idle shutdown and
jupyterhub-singleuser's activity reports (JupyterHub's idle culler) see
marimo's real use. Two servers of one user share the state dir: each reads only
the files of its own launches' ports.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from datetime import datetime, timezone

ACTIVITY_KEY = "jupyter_marimo_proxy"
READ_INTERVAL_MS = 1000


def own_sessions() -> list:
    """This server's launches: the editor's and, where it exists, the apps route's."""
    from . import session as sessions

    found = [sessions.current_session()]
    apps = getattr(sessions, "current_app_session", None)
    if apps is not None:
        found.append(apps())
    return found


class ActivityReport:
    def __init__(self, settings: dict, sessions: Callable[[], Iterable] = own_sessions) -> None:
        self.settings = settings
        self.sessions = sessions
        self.latest = 0.0

    def read(self) -> None:
        newest = self.latest
        for session in self.sessions():
            if session.port is None:
                continue
            try:
                newest = max(newest, os.stat(session.layout.activity_file(session.port)).st_mtime)
            except OSError:
                continue
        if newest > self.latest:
            self.latest = newest
            times = self.settings.setdefault("last_activity_times", {})
            times[ACTIVITY_KEY] = datetime.fromtimestamp(newest, timezone.utc)


def start(web_app) -> None:
    from tornado.ioloop import PeriodicCallback

    PeriodicCallback(ActivityReport(web_app.settings).read, READ_INTERVAL_MS).start()
