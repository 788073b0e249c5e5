"""The ``jupyter_serverproxy_servers`` entry point named ``marimo``."""

from __future__ import annotations

from .session import current_session


def _command(port: int, base_url: str) -> list[str]:
    return current_session().launch_command(port, base_url)


def _environment() -> dict[str, str]:
    return current_session().launch_environment()


def _request_headers() -> dict[str, str]:
    return current_session().auth_headers()


def _page_rewriter(session=current_session):
    from .connection_shim import page_rewriter, route_base_of

    return page_rewriter(lambda: route_base_of(session().base_url, session().route))


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
        # marimo's pages get the script that carries its websockets through proxies
        # that break them (connection_shim.py).
        "rewrite_response": _page_rewriter(),
        # marimo pings its websocket every second: counting proxied traffic would
        # keep every server busy forever. The launcher judges what is use and
        # the server extension reports it (activity_report.py).
        "update_last_activity": False,
        # Our frontend provides the one "Marimo" tile.
        "launcher_entry": {"enabled": False, "title": "Marimo"},
    }


def setup_marimo_apps_server() -> dict:
    """The ``marimo-apps`` route: ``marimo run`` on the root behind the same launcher,
    front door and per-start secret as the editor. Every app tab gets a kernel of its
    own, so an app never shares (or takes over) the editor's session of its file."""
    from .session import current_app_session

    # Looked up on every call, like the editor's: our server extension may
    # install the sessions after jupyter-server-proxy read this description.
    def command(port: int, base_url: str) -> list[str]:
        return current_app_session().launch_command(port, base_url)

    return {
        "command": command,
        "environment": lambda: current_app_session().launch_environment(),
        "timeout": current_app_session().proxy_timeout(),
        "absolute_url": True,
        "new_browser_tab": False,
        "request_headers_override": lambda: current_app_session().auth_headers(),
        "rewrite_response": _page_rewriter(current_app_session),
        # As for the editor: the launcher judges what is use (activity_report.py).
        "update_last_activity": False,
        "launcher_entry": {"enabled": False, "title": "marimo apps"},
    }
