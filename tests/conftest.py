from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The helpers beside the tests (a Jupyter subprocess, /proc readers, a marimo driver).
sys.path.insert(0, str(Path(__file__).parent))

from jupyter_process import JupyterServer  # noqa: E402
from slow_index import SlowIndex  # noqa: E402
from wheels import build_fixture_wheelhouse  # noqa: E402

pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory) -> JupyterServer:
    """A real Jupyter server at base_url "/" with a fresh state dir (no venv yet)."""
    base = tmp_path_factory.mktemp("jupyter")
    server = JupyterServer(root_dir=base / "root", state_dir=base / "state").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def jupyter_alice(tmp_path_factory) -> JupyterServer:
    """A real Jupyter server under a JupyterHub-like base_url."""
    base = tmp_path_factory.mktemp("alice")
    server = JupyterServer(root_dir=base / "root", state_dir=base / "state", base_url="/user/alice/").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory):
    """The fixture wheels every install test uses (no package index at test time)."""
    return build_fixture_wheelhouse(tmp_path_factory.mktemp("wheels"))


@pytest.fixture(scope="session")
def slow_index(tmp_path_factory):
    """A find-links page whose one wheel downloads slowly: an install still running."""
    index = SlowIndex(tmp_path_factory.mktemp("slow"))
    yield index
    index.close()
