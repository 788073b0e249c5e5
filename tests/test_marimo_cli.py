"""Guard the edges we depend on: marimo's CLI and the routes we rely on.

When marimo gains a flag for ``marimo edit`` (or a global one), this fails until
the flag is classified in jupyter_marimo_proxy/launch/marimo_cli.py.
"""

from __future__ import annotations

import pytest

from jupyter_marimo_proxy.launch.marimo_cli import CLASSIFIED, EXPOSED, LEFT_OUT, USED, refused_extra_args
from jupyter_marimo_proxy.launcher import LaunchSpec, marimo_command


def marimo_flags() -> set[str]:
    from marimo._cli.cli import main

    flags = set()
    for command in (main, main.commands["edit"]):
        for param in command.params:
            flags.update(opt for opt in (*param.opts, *param.secondary_opts) if opt.startswith("-"))
    return flags


def test_every_marimo_edit_flag_is_classified():
    unclassified = sorted(marimo_flags() - set(CLASSIFIED))
    assert not unclassified, (
        f"marimo has flags we have not classified: {unclassified}. Decide for each whether the launcher uses it, "
        "an administrator may pass it (extra_marimo_args) or it stays out, in launch/marimo_cli.py."
    )


def test_no_classified_flag_is_gone_from_marimo():
    # A flag we rely on that marimo dropped would make the launch fail.
    assert not sorted(set(USED) - marimo_flags())


def test_the_classes_do_not_overlap():
    assert not (set(USED) & set(EXPOSED)) and not (set(USED) & set(LEFT_OUT)) and not (set(EXPOSED) & set(LEFT_OUT))


def test_the_launch_command_uses_only_flags_marked_used(tmp_path):
    spec = LaunchSpec(
        state_dir=str(tmp_path), root_dir=str(tmp_path), port=1, base_url="/marimo", secret_file="/s",
        startup_timeout=5, base_python="python", idle_timeout=60, session_ttl=60,
    )  # fmt: skip
    flags = {arg for arg in marimo_command(spec, tmp_path / "python", port=2) if arg.startswith("-") and arg not in ("-I", "-m")}
    assert flags <= set(USED), sorted(flags - set(USED))


@pytest.mark.parametrize("args", [["--host", "0.0.0.0"], ["--no-token"], ["--token-password=x"], ["--port", "1"], ["-q"]])
def test_extra_args_cannot_override_what_the_launcher_sets(args):
    assert refused_extra_args(args)


def test_extra_args_may_carry_the_exposed_flags():
    assert refused_extra_args(["--watch", "--no-skew-protection", "--log-level=debug"]) == []


def test_marimo_still_has_the_routes_we_rely_on():
    """The health check (launcher), the token route (blocked by route_guard) and
    the running-notebooks API: if marimo moves them, this says so."""
    from marimo._server.main import create_starlette_app  # noqa: F401 - importable
    from marimo._server.api.router import build_routes

    paths = set()

    def collect(routes, prefix=""):
        for route in routes:
            path = prefix + getattr(route, "path", "")
            if hasattr(route, "routes"):
                collect(route.routes, path)
            else:
                paths.add(path)

    collect(build_routes())
    for needed in ("/health", "/auth/token", "/api/home/running_notebooks"):
        assert any(p == needed or p.endswith(needed) for p in paths), (needed, sorted(paths)[:50])
