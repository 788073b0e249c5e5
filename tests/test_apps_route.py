"""Run as app on a route of its own: ``marimo run`` behind the same launcher."""

from __future__ import annotations

from importlib.metadata import entry_points

from jupyter_marimo_proxy.launch.marimo_cli import USED
from jupyter_marimo_proxy.launcher import APP_SESSION_TTL_SECONDS, LaunchSpec, marimo_command


def run_flags() -> set[str]:
    from marimo._cli.cli import main

    flags = set()
    for command in (main, main.commands["run"]):
        for param in command.params:
            flags.update(opt for opt in (*param.opts, *param.secondary_opts) if opt.startswith("-"))
    return flags


def spec(tmp_path, mode: str) -> LaunchSpec:
    return LaunchSpec(
        state_dir=str(tmp_path), root_dir=str(tmp_path), port=1, base_url="/marimo-apps", secret_file="/s",
        startup_timeout=5, base_python="python", idle_timeout=60, session_ttl=60, mode=mode,
    )  # fmt: skip


def test_the_run_command_is_marimo_run_on_the_root_with_the_secret_file(tmp_path):
    command = marimo_command(spec(tmp_path, "run"), tmp_path / "python", port=2)
    assert command[1:6] == ["-I", "-m", "marimo", "-q", "run"] and command[6] == str(tmp_path)
    assert command[command.index("--host") + 1] == "127.0.0.1"
    assert command[command.index("--port") + 1] == "2"
    assert command[command.index("--base-url") + 1] == "/marimo-apps"
    assert command[command.index("--token-password-file") + 1] == "/s"
    # An app's kernel ends soon after its tab closes.
    assert command[command.index("--session-ttl") + 1] == str(APP_SESSION_TTL_SECONDS)
    # Code is not sent to the browser; edit-only flags are not passed.
    assert "--include-code" not in command and "--timeout" not in command


def test_the_run_command_uses_flags_marimo_run_has_and_we_classified(tmp_path):
    flags = {a for a in marimo_command(spec(tmp_path, "run"), tmp_path / "python", 2) if a.startswith("-")} - {"-I", "-m"}
    assert flags <= run_flags(), sorted(flags - run_flags())
    assert flags <= set(USED), sorted(flags - set(USED))


def test_the_editor_keeps_marimo_edit(tmp_path):
    assert "edit" in marimo_command(spec(tmp_path, "edit"), tmp_path / "python", 2)


def test_the_apps_route_is_a_server_proxy_entry_point():
    names = {ep.name: ep.value for ep in entry_points(group="jupyter_serverproxy_servers")}
    assert names.get("marimo-apps") == "jupyter_marimo_proxy.server_proxy:setup_marimo_apps_server"
    from jupyter_marimo_proxy.server_proxy import setup_marimo_apps_server

    description = setup_marimo_apps_server()
    assert description["absolute_url"] is True and description["launcher_entry"]["enabled"] is False
    assert callable(description["request_headers_override"]) and callable(description["command"])


def test_the_app_session_has_its_route_mode_and_own_secret(tmp_path):
    from jupyter_marimo_proxy.config import MarimoProxy
    from jupyter_marimo_proxy.session import apps_tab_url, current_app_session, current_session, install_session

    install_session(MarimoProxy(state_dir=str(tmp_path / "state")), root_dir=str(tmp_path), base_url="/user/a/")
    apps, editor = current_app_session(), current_session()
    assert (apps.route, apps.mode) == ("marimo-apps", "run")
    assert apps_tab_url("/user/a/") == "/user/a/marimo-apps/"
    apps.launch_command(40001, "/user/a/")
    editor.launch_command(40002, "/user/a/")
    assert apps.current_secret() and apps.current_secret() != editor.current_secret()
    import json

    launch = json.loads(apps.layout.launch_spec_file(40001).read_text())
    assert launch["mode"] == "run" and launch["base_url"] == "/user/a/marimo-apps"
