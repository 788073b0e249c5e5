"""The oldest Python and the oldest marimo we claim, together, for real (issue #11).

``build/oldest`` (made by scripts/oldest_env.py from scripts/setup.sh) has
requires-python's Python (3.10) with pyproject's floor marimo and this project.
On it: doctor runs to its report, and a Jupyter server of that Python opens
marimo through the proxy, runs a cell in marimo's kernel, and installs a
package through the API that the cell can import.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from jupyter_process import JupyterServer
from marimo_kernel import run_cell_sync
from wheels import build_fixture_wheelhouse

ROOT = Path(__file__).resolve().parent.parent
OLDEST = ROOT / "build" / "oldest"
PYTHON = OLDEST / "bin" / "python"


def claimed() -> tuple[str, str]:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    python = re.search(r'requires-python\s*=\s*">=\s*(\d+\.\d+)', text).group(1)
    marimo = re.search(r'"marimo>=([0-9][^",;]*)"', text).group(1)
    return python, marimo


pytestmark = pytest.mark.skipif(
    not PYTHON.exists(),
    reason="no build/oldest: scripts/oldest_env.py found no Python 3.10 on this machine (see its output in setup)",
)


def run(*args: str) -> str:
    return subprocess.run([str(PYTHON), *args], capture_output=True, text=True, check=True, timeout=120).stdout


def test_the_venv_has_the_oldest_python_and_marimo_we_claim():
    python, marimo = claimed()
    assert run("-c", "import sys; print('%d.%d' % sys.version_info[:2])").strip() == python
    assert run("-c", "import marimo; print(marimo.__version__)").strip() == marimo
    # This project, from this checkout.
    assert run("-c", "import jupyter_marimo_proxy; print(jupyter_marimo_proxy.__file__)").strip().startswith(str(ROOT))


def test_every_module_imports(tmp_path):
    code = (
        "import importlib, pkgutil, jupyter_marimo_proxy as p\n"
        "for m in pkgutil.walk_packages(p.__path__, 'jupyter_marimo_proxy.'):\n"
        "    if m.name != 'jupyter_marimo_proxy.__main__': importlib.import_module(m.name)\n"
        "print('ok')\n"
    )
    assert run("-c", code).strip() == "ok"


def test_doctor_runs_to_its_report(tmp_path):
    result = subprocess.run(
        [str(PYTHON), "-m", "jupyter_marimo_proxy", "doctor"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": f"{OLDEST / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path),
             "JUPYTER_MARIMO_PROXY_STATE_DIR": str(tmp_path / "state")},  # fmt: skip
    )
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    # 0: all well; 1: something to fix (no venv made yet, say); either way a report.
    assert result.returncode in (0, 1), result.stderr
    assert "jupyter_marimo_proxy.server_proxy:setup_marimo_server" in result.stdout, result.stdout


def test_a_jupyter_server_on_the_oldest_python_opens_marimo_and_installs(tmp_path):
    wheels = build_fixture_wheelhouse(tmp_path / "wheels")
    server = JupyterServer(
        tmp_path / "root",
        tmp_path / "state",
        extra_args=[f"--MarimoProxy.find_links={wheels}", "--MarimoProxy.no_index=True"],
        command=[str(OLDEST / "bin" / "jupyter-server")],
    ).start()
    try:
        page = server.get("marimo/")
        assert page.status_code == 200 and "<marimo-version" in page.text, page.text[:500]
        status = server.status()
        assert status["venv"]["healthy"], status["venv"]
        assert status["venv"]["python_version"].startswith(claimed()[0] + "."), status["venv"]
        job = server.post("jupyter-marimo-proxy/packages", json={"specs": ["jmp-alpha"]})
        assert job.status_code == 202, job.text
        finished = server.wait_job(job.headers["Location"])
        assert finished["state"] == "succeeded", finished["log"]
        out = run_cell_sync(server, "oldest.py", "import sys, jmp_alpha; print(sys.version_info[:2], jmp_alpha.__name__)")
        assert out.strip() == f"({claimed()[0].replace('.', ', ')}) jmp_alpha", out
    finally:
        server.stop()

