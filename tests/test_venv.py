"""The user venv, built for real on the interpreter running these tests (Jupyter's)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from jupyter_marimo_proxy.venv import (
    READY_MARKER,
    create_venv,
    ensure_venv,
    full_check,
    probe_command,
    quick_check,
    venv_python,
    venv_site_packages,
)

INSPECT = (
    "import json, sys, jupyter_server, marimo; print(json.dumps({"
    "'prefix': sys.prefix, 'base_prefix': sys.base_prefix, 'path': sys.path,"
    "'marimo': marimo.__file__, 'jupyter_server': jupyter_server.__file__}))"
)


@pytest.fixture(scope="module")
def venv_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("state") / "venv"
    started = time.monotonic()
    create_venv(path, sys.executable)
    print(f"venv created in {time.monotonic() - started:.2f}s")
    return path


def inspect(venv_dir) -> dict:
    out = subprocess.run([str(venv_python(venv_dir)), "-c", INSPECT], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_venv_is_a_real_venv_that_sees_jupyters_environment(venv_dir):
    facts = inspect(venv_dir)
    assert facts["prefix"] == str(venv_dir)
    assert facts["prefix"] != facts["base_prefix"]
    # marimo and Jupyter's packages come from the environment running Jupyter,
    # even when that environment is itself a venv (as here, and in CI).
    assert facts["marimo"].startswith(sys.prefix)
    assert facts["jupyter_server"].startswith(sys.prefix)


def test_venv_site_packages_come_before_jupyters(venv_dir):
    path = inspect(venv_dir)["path"]
    own = next(i for i, p in enumerate(path) if p.startswith(str(venv_dir)) and p.endswith("site-packages"))
    jupyters = next(i for i, p in enumerate(path) if p.startswith(sys.prefix) and p.endswith("site-packages"))
    assert own < jupyters


def test_package_installed_into_venv_shadows_jupyters_copy(venv_dir):
    site = next(p for p in inspect(venv_dir)["path"] if p.startswith(str(venv_dir)) and p.endswith("site-packages"))
    (venv_dir / site.split(str(venv_dir))[1].lstrip("/")).joinpath("marimo_shadow_probe.py").write_text("WHERE = 'venv'\n")
    out = subprocess.run(
        [str(venv_python(venv_dir)), "-c", "import marimo_shadow_probe as m; print(m.WHERE, m.__file__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.startswith("venv " + str(venv_dir))


def test_healthy_venv_passes_full_check(venv_dir):
    report = full_check(venv_dir)
    assert report.healthy, report.problems
    assert report.marimo_version
    assert report.python_version == ".".join(map(str, sys.version_info[:3]))


def test_ensure_venv_reuses_a_complete_venv(venv_dir):
    cfg = venv_dir / "pyvenv.cfg"
    before = cfg.stat().st_mtime_ns
    assert ensure_venv(venv_dir, sys.executable) is None  # nothing was replaced
    assert cfg.stat().st_mtime_ns == before


def test_missing_venv_is_reported_not_created(tmp_path):
    report = quick_check(tmp_path / "venv")
    assert not report.exists and not report.healthy
    assert not (tmp_path / "venv").exists()


@pytest.mark.parametrize(
    "damage, expected",
    [
        (lambda v: (v / READY_MARKER).unlink(), "not completely created"),
        (lambda v: (v / "pyvenv.cfg").write_text("garbage\n"), "pyvenv.cfg"),
        (lambda v: venv_python(v).unlink(), "interpreter"),
    ],
    ids=["half-built", "damaged-pyvenv-cfg", "interpreter-gone"],
)
def test_broken_venv_is_detected_and_ensure_rebuilds_it(tmp_path, damage, expected):
    venv_dir = tmp_path / "venv"
    create_venv(venv_dir, sys.executable)
    damage(venv_dir)
    report = quick_check(venv_dir)
    assert not report.healthy
    assert any(expected in problem for problem in report.problems), report.problems
    replaced = ensure_venv(venv_dir, sys.executable)
    assert replaced is not None and not replaced.healthy  # the report on what was there
    assert full_check(venv_dir).healthy



def _count_probes(monkeypatch, venv_dir) -> list:
    """The runs of the venv interpreter probe by full_check (they still run)."""
    from jupyter_marimo_proxy import venv as venv_module

    calls = []
    real_run = venv_module.subprocess.run

    def counting_run(command, *args, **kwargs):
        if command == probe_command(venv_dir):
            calls.append(command)
        return real_run(command, *args, **kwargs)

    monkeypatch.setattr(venv_module.subprocess, "run", counting_run)
    return calls


def test_a_launch_reuses_the_probe_until_the_venv_or_jupyters_environment_changes(tmp_path, monkeypatch):
    venv_dir = tmp_path / "venv"
    create_venv(venv_dir, sys.executable)
    probes = _count_probes(monkeypatch, venv_dir)
    first = full_check(venv_dir, None, sys.executable, reuse_probe=True)
    assert first.healthy and len(probes) == 1
    again = full_check(venv_dir, None, sys.executable, reuse_probe=True)
    assert again.healthy and len(probes) == 1, "the unchanged venv was probed again"
    assert (again.python_version, again.marimo_version) == (first.python_version, first.marimo_version)
    # Without reuse_probe (doctor, status, a repair) the interpreter always runs.
    full_check(venv_dir, None, sys.executable)
    assert len(probes) == 2
    # A package installed into the venv changes its site-packages: probed again.
    (venv_site_packages(venv_dir) / "jmp_probe_input.py").write_text("X = 1\n")
    full_check(venv_dir, None, sys.executable, reuse_probe=True)
    assert len(probes) == 3
    # So does a reconfigured venv (pyvenv.cfg rewritten).
    cfg = venv_dir / "pyvenv.cfg"
    time.sleep(0.01)
    cfg.write_text(cfg.read_text())
    full_check(venv_dir, None, sys.executable, reuse_probe=True)
    assert len(probes) == 4


def test_a_reused_probe_never_hides_an_interpreter_that_stopped_working(tmp_path):
    venv_dir = tmp_path / "venv"
    create_venv(venv_dir, sys.executable)
    assert full_check(venv_dir, None, sys.executable, reuse_probe=True).healthy
    python = venv_python(venv_dir)
    python.unlink()
    python.write_text("#!/bin/sh\nexit 3\n")
    python.chmod(0o755)
    report = full_check(venv_dir, None, sys.executable, reuse_probe=True)
    assert not report.healthy
    assert any("does not run" in problem for problem in report.problems), report.problems
