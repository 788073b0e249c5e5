"""The Jupyter-process side of a launch: URLs, the per-launch secret, the proxy's view."""

from __future__ import annotations

import json
import stat
import sys

import pytest

from jupyter_marimo_proxy.config import MarimoProxy
from jupyter_marimo_proxy.server_proxy import setup_marimo_server
from jupyter_marimo_proxy.session import (
    MarimoSession,
    escape_template,
    marimo_base_url,
    marimo_tab_url,
)


@pytest.mark.parametrize(
    "jupyter_base, marimo_base, tab",
    [
        ("/", "/marimo", "/marimo/"),
        ("", "/marimo", "/marimo/"),
        ("/user/alice/", "/user/alice/marimo", "/user/alice/marimo/"),
        ("/user/alice", "/user/alice/marimo", "/user/alice/marimo/"),
        ("/jupyter/default/", "/jupyter/default/marimo", "/jupyter/default/marimo/"),
    ],
)
def test_marimo_urls_follow_jupyters_base_url(jupyter_base, marimo_base, tab):
    assert marimo_base_url(jupyter_base) == marimo_base
    assert marimo_tab_url(jupyter_base) == tab


def test_escape_template_survives_the_proxys_format():
    raw = "/data/{weird}/dir"
    assert escape_template(raw).format(port=1, base_url="/") == raw


@pytest.fixture
def session(tmp_path):
    settings = MarimoProxy(state_dir=str(tmp_path / "state"))
    return MarimoSession(settings=settings, root_dir=str(tmp_path / "root {braces}"))


def test_each_launch_gets_a_fresh_private_secret_not_on_the_command_line(session):
    first_cmd = session.launch_command(4321, "/user/bob/")
    first_secret = session.auth_headers()["Authorization"].split(" ", 1)[1]
    second_cmd = session.launch_command(4321, "/user/bob/")
    second_secret = session.auth_headers()["Authorization"].split(" ", 1)[1]
    assert first_secret != second_secret and len(second_secret) >= 32
    for command in (first_cmd, second_cmd):
        assert not any(first_secret in part or second_secret in part for part in command)
    secret_file = session.layout.secret_file(4321)
    assert secret_file.read_text() == second_secret
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(session.layout.run_dir.stat().st_mode) == 0o700


def test_launch_command_runs_the_launcher_with_a_spec(session):
    command = [part.format(port=4321, base_url="/user/bob/") for part in session.launch_command(4321, "/user/bob/")]
    # -P: a jupyter_marimo_proxy.py in Jupyter's working directory cannot stand in for ours.
    assert command[:4] == [sys.executable, "-P", "-m", "jupyter_marimo_proxy.launcher"]
    spec = json.loads(open(command[4]).read())
    assert spec["port"] == 4321
    assert spec["base_url"] == "/user/bob/marimo"
    assert spec["root_dir"] == session.root_dir
    assert spec["secret_file"] == str(session.layout.secret_file(4321))


def test_no_secret_before_any_launch(session):
    assert session.auth_headers() == {}


def test_proxy_entry_point_hides_its_own_tile_and_keeps_absolute_urls():
    config = setup_marimo_server()
    assert config["absolute_url"] is True
    assert config["launcher_entry"]["enabled"] is False
    assert config["new_browser_tab"] is False
    assert callable(config["command"]) and callable(config["request_headers_override"])
    # The proxy must wait longer than the launcher's own start timeout, so the
    # launcher's explanation page wins over the proxy's bare error.
    assert config["timeout"] > MarimoProxy().startup_timeout


def test_marimo_command_carries_idle_timeout_and_session_ttl(tmp_path):
    from pathlib import Path

    from jupyter_marimo_proxy.launcher import LaunchSpec, marimo_command

    spec = LaunchSpec(
        state_dir=str(tmp_path), root_dir=str(tmp_path), port=1234, base_url="/marimo", secret_file="/s",
        startup_timeout=5, base_python=sys.executable, idle_timeout=90, session_ttl=120,
    )
    command = marimo_command(spec, Path("/venv/bin/python"))
    assert command[command.index("--timeout") + 1] == "1.5"  # marimo counts minutes
    assert command[command.index("--session-ttl") + 1] == "120"
    plain = marimo_command(LaunchSpec(**{**spec.__dict__, "idle_timeout": 0, "session_ttl": 0}), Path("/p"))
    assert "--timeout" not in plain and "--session-ttl" not in plain


def test_launcher_command_ignores_the_working_directory(tmp_path):
    """A crafted folder with its own jupyter_marimo_proxy package must not run as the launcher."""
    import subprocess

    from jupyter_marimo_proxy.session import launcher_command

    impostor = tmp_path / "jupyter_marimo_proxy"
    impostor.mkdir()
    (impostor / "__init__.py").write_text("")
    (impostor / "launcher.py").write_text("open('PWNED', 'w').write('x')\n")
    result = subprocess.run(launcher_command(), cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert not (tmp_path / "PWNED").exists()
    assert "usage: python -m jupyter_marimo_proxy.launcher" in result.stderr


def test_scrub_masks_secrets_and_secret_shaped_text():
    from jupyter_marimo_proxy.launch.scrub import scrub

    secret = "Zq8vJXl3mN0pQr7sT1uVw2xYz4AbCdEf"
    assert secret not in scrub(f"starting with {secret} in the middle", [secret])
    assert scrub("URL: http://localhost:1/marimo?access_token=abc123") == "URL: http://localhost:1/marimo?access_token=[hidden]"
    assert scrub("--index-url https://alice:pw@example.org/simple") == "--index-url https://[hidden]@example.org/simple"
    assert scrub("Authorization: Bearer abcdefghijklmnop") == "Authorization: Bearer [hidden]"
    ordinary = "Installed requests 2.32.3 (token bucket of size 5)"
    assert scrub(ordinary) == ordinary


def test_extra_args_that_would_weaken_the_launch_are_explained_not_passed(tmp_path):
    from jupyter_marimo_proxy.config import MarimoProxy
    from jupyter_marimo_proxy.session import MarimoSession

    settings = MarimoProxy(state_dir=str(tmp_path / "state"), extra_marimo_args=["--host", "0.0.0.0"])
    session = MarimoSession(settings=settings, root_dir=str(tmp_path))
    command = session.launch_command(4321, "/")
    assert "--explain" in command
    assert any("extra_marimo_args contains --host" in part for part in command)
    assert "0.0.0.0" not in " ".join(command)
