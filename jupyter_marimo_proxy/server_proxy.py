"""The ``jupyter_serverproxy_servers`` entry point named ``marimo``."""

from __future__ import annotations

from .session import current_session


def _command(port: int, base_url: str) -> list[str]:
    return current_session().launch_command(port, base_url)


def _environment() -> dict[str, str]:
    return current_session().launch_environment()


def _request_headers() -> dict[str, str]:
    return current_session().auth_headers()


def setup_marimo_server() -> dict:
    """jupyter-server-proxy's description of the marimo route.

    The command is a callable so that each launch gets a fresh secret and the
    settings loaded by our server extension. ``absolute_url`` keeps the full
    path, which marimo expects because it runs with ``--base-url``.
    """
    return {
        "command": _command,
        # Called right after the command, so it carries that launch's secret.
        "environment": _environment,
        "timeout": current_session().proxy_timeout(),
        "absolute_url": True,
        "new_browser_tab": False,
        "request_headers_override": _request_headers,
        # Our frontend provides the one "Marimo" tile.
        "launcher_entry": {"enabled": False, "title": "Marimo"},
    }
