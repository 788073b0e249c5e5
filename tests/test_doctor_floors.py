"""doctor on the Pythons we claim, and other packages that take the 'marimo' route (issue #11)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "jupyter_marimo_proxy"


def test_every_module_parses_with_the_oldest_python_we_claim():
    # A quick guard for syntax newer than requires-python's 3.10 (tests/test_oldest_claims.py
    # runs the project on a real Python 3.10 where one is found).
    # (Library calls newer than 3.10 are not caught: doctor avoids entry_points(group=).)
    for path in PACKAGE.rglob("*.py"):
        ast.parse(path.read_text(encoding="utf-8"), filename=str(path), feature_version=(3, 10))


def fake_distribution(site: Path, name: str, target: str) -> None:
    info = site / f"{name.replace('-', '_')}-0.0.4.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.0.4\n")
    (info / "entry_points.txt").write_text(f"[jupyter_serverproxy_servers]\nmarimo = {target}\n")


def run_doctor(tmp_path: Path, extra_site: Path | None) -> subprocess.CompletedProcess:
    env = dict(os.environ, JUPYTER_MARIMO_PROXY_STATE_DIR=str(tmp_path / "state"))
    if extra_site is not None:
        env["PYTHONPATH"] = str(extra_site)
    return subprocess.run(
        [sys.executable, "-m", "jupyter_marimo_proxy", "doctor"], env=env, capture_output=True, text=True, timeout=120
    )


def test_doctor_names_another_package_that_registers_the_marimo_route(tmp_path):
    site = tmp_path / "site"
    fake_distribution(site, "marimo-jupyter-extension", "marimo_jupyter_extension:setup_marimoserver")
    result = run_doctor(tmp_path, site)
    assert "marimo-jupyter-extension also registers the jupyter-server-proxy route 'marimo'" in result.stdout, result.stdout
    assert "pip uninstall marimo-jupyter-extension" in result.stdout
    assert result.returncode == 1
    # Our own entry point is still reported as ours.
    assert "jupyter_marimo_proxy.server_proxy:setup_marimo_server" in result.stdout


def test_doctor_never_tells_users_to_fetch_the_other_project_of_the_same_name(tmp_path):
    result = run_doctor(tmp_path, None)
    assert "marimo' route" not in result.stdout and "also registers" not in result.stdout, result.stdout
    source = (PACKAGE / "doctor.py").read_text()
    assert "pip install --force-reinstall jupyter-marimo-proxy" not in source
    assert "pip install jupyter-marimo-proxy" not in source
