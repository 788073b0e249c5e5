"""marimo reactive notebooks inside JupyterLab."""

from __future__ import annotations

import os

try:
    from ._version import __version__
except ImportError:  # a source checkout that was never built
    from importlib.metadata import PackageNotFoundError, version

    try:
        __version__ = version("jupyter-marimo-proxy")
    except PackageNotFoundError:
        __version__ = "0.0.0+unknown"


def _jupyter_labextension_paths() -> list[dict]:
    return [{"src": "labextension", "dest": "jupyter-marimo-proxy"}]


def _jupyter_server_extension_points() -> list[dict]:
    return [{"module": "jupyter_marimo_proxy"}]


def _load_jupyter_server_extension(serverapp) -> None:
    from .config import MarimoProxy
    from .handlers import route_table
    from .session import install_session

    settings = MarimoProxy(config=serverapp.config, parent=serverapp)
    base_url = serverapp.web_app.settings.get("base_url", "/")
    session = install_session(settings, root_dir=str(serverapp.root_dir), base_url=base_url)
    serverapp.web_app.add_handlers(".*$", route_table(base_url))
    from .route_guard import marimo_route_guard
    from .session import marimo_tab_url

    serverapp.web_app.add_transform(marimo_route_guard(marimo_tab_url(base_url), session.known_secrets))
    from .session import apps_tab_url, current_app_session

    # The apps route (marimo run) is guarded the same way, with its own secrets.
    serverapp.web_app.add_transform(
        marimo_route_guard(apps_tab_url(base_url), lambda: current_app_session().known_secrets())
    )
    try:
        from .kernelspec import register_kernelspec

        register_kernelspec(serverapp, session.layout)
    except OSError as error:
        # An unusable state dir is reported by the status API and the tab.
        serverapp.log.warning("jupyter_marimo_proxy: no 'marimo venv' kernel: %s", error)
    from tornado.ioloop import PeriodicCallback

    # A launcher that rebuilt the venv leaves a note; the repair runs in the background.
    PeriodicCallback(session.repair_after_rebuild, 1000).start()
    from .activity_report import start as report_marimo_activity

    # marimo's use (judged by the launcher) counts as the server's activity; its pings do not.
    report_marimo_activity(serverapp.web_app)
    from tornado.ioloop import IOLoop

    # A package job cut short (Jupyter killed, the machine stopped) is rolled
    # back in the background; a normal shutdown stops the installer and rolls back.
    IOLoop.current().add_callback(session.packages.recover_at_start)
    import atexit

    atexit.register(session.packages.shutdown)
    if settings.requirements:
        # After start-up: the server answers (and marimo opens) while this runs.

        requirements = os.path.join(str(serverapp.root_dir), os.path.expanduser(settings.requirements))
        IOLoop.current().add_callback(session.packages.bootstrap, requirements)
    serverapp.log.info(
        "jupyter_marimo_proxy %s: marimo at %smarimo/, state in %s",
        __version__,
        base_url,
        settings.state_dir,
    )
