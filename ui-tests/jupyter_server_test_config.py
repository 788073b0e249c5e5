"""Jupyter server configuration for the browser tests (Galata/Playwright).

Started by Playwright's ``webServer`` (see playwright.config.ts) as
``jupyter lab --config jupyter_server_test_config.py``.

Every run gets a throw-away world so that tests never touch the repository
or the user's own state:

- the Jupyter root is a fresh copy of the repository's ``demo/`` folder in a
  temporary directory;
- the extension's state directory (where the user venv and its manifest
  live) is a new temporary directory, given to the extension through
  ``JUPYTER_MARIMO_PROXY_STATE_DIR``, so each run starts without a venv;
- packages are installed only from a wheelhouse of tiny fixture wheels
  (``jmp-live``, ``jmp-alpha``, ... built by the repository's
  ``tests/wheels.py``) in a temporary directory, and from a loopback page
  (``tests/slow_index.py``) whose one wheel, ``jmp-slow``, downloads very
  slowly; never from an index.

Each can be pinned from outside by setting ``JUPYTERLAB_GALATA_ROOT_DIR``,
``JUPYTER_MARIMO_PROXY_STATE_DIR`` or ``UI_TESTS_WHEELHOUSE`` before starting
the run. Directories made here are removed when Jupyter exits, unless
``UI_TESTS_KEEP_DIRS=1``.

Never use this configuration outside tests: Galata's helper disables
authentication and XSRF protection.
"""

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

from jupyterlab.galata import configure_jupyter_server

HERE = Path(__file__).resolve().parent
DEMO = HERE.parent / "demo"
sys.path.insert(0, str(HERE.parent / "tests"))

from slow_index import SlowIndex  # noqa: E402
from wheels import build_fixture_wheelhouse  # noqa: E402

# The config file may be evaluated more than once in one process; the
# environment variables make the directory choice stable across evaluations.
_made: list = []

if not os.environ.get("JUPYTERLAB_GALATA_ROOT_DIR"):
    root = Path(tempfile.mkdtemp(prefix="jmp-ui-root-"))
    if DEMO.is_dir():
        shutil.copytree(DEMO, root, dirs_exist_ok=True)
    os.environ["JUPYTERLAB_GALATA_ROOT_DIR"] = str(root)
    _made.append(str(root))

if not os.environ.get("JUPYTER_MARIMO_PROXY_STATE_DIR"):
    state = tempfile.mkdtemp(prefix="jmp-ui-state-")
    os.environ["JUPYTER_MARIMO_PROXY_STATE_DIR"] = state
    _made.append(state)

if not os.environ.get("UI_TESTS_WHEELHOUSE"):
    wheelhouse = tempfile.mkdtemp(prefix="jmp-ui-wheels-")
    build_fixture_wheelhouse(Path(wheelhouse))
    os.environ["UI_TESTS_WHEELHOUSE"] = wheelhouse
    _made.append(wheelhouse)

if not os.environ.get("UI_TESTS_SLOW_INDEX"):
    # A find-links page on loopback whose one wheel (jmp-slow) takes two
    # minutes to download: an install that is still running when a test
    # looks at its live log, queues another job behind it, or cancels it.
    # Its server thread lives as long as this Jupyter process.
    slow_folder = tempfile.mkdtemp(prefix="jmp-ui-slow-")
    os.environ["UI_TESTS_SLOW_INDEX"] = SlowIndex(Path(slow_folder)).url
    _made.append(slow_folder)


def _cleanup(paths=tuple(_made)):
    # Runs when Jupyter exits normally (Playwright stops it with SIGTERM).
    if os.environ.get("UI_TESTS_KEEP_DIRS"):
        print("[ui-tests] kept %s" % " ".join(paths), flush=True)
        return
    for path in paths:
        shutil.rmtree(path, ignore_errors=True)


if _made:
    atexit.register(_cleanup)

configure_jupyter_server(c)  # noqa: F821 (c is injected by traitlets)

# Not Galata's default 8888: a developer's own Jupyter often sits there, and
# Playwright must never mistake it for the test server.
c.ServerApp.port = int(os.environ.get("UI_TESTS_PORT", "8899"))  # noqa: F821
c.ServerApp.ip = "127.0.0.1"  # noqa: F821
c.ServerApp.allow_root = True  # noqa: F821
c.ServerApp.open_browser = False  # noqa: F821

# Installs come from the fixture wheels only: a test never needs the network
# and never depends on what an index serves today.
c.MarimoProxy.find_links = [  # noqa: F821
    os.environ["UI_TESTS_WHEELHOUSE"],
    os.environ["UI_TESTS_SLOW_INDEX"],
]
c.MarimoProxy.no_index = True  # noqa: F821

print(
    "[ui-tests] root_dir=%s state_dir=%s wheelhouse=%s slow_index=%s"
    % (
        os.environ["JUPYTERLAB_GALATA_ROOT_DIR"],
        os.environ["JUPYTER_MARIMO_PROXY_STATE_DIR"],
        os.environ["UI_TESTS_WHEELHOUSE"],
        os.environ["UI_TESTS_SLOW_INDEX"],
    ),
    flush=True,
)

# Issue 16: one breaking proxy per failure mode in front of this server
# (tests/breaking_proxy.py), on the next ports: proxies.spec.ts opens marimo
# through each. A process of its own, ended with this one.
if not os.environ.get("UI_TESTS_NO_PROXIES"):
    import subprocess

    _port = int(os.environ.get("UI_TESTS_PORT", "8899"))
    _modes = ("strip_query", "drop_ws", "no_ws", "buffer")
    _proxies = subprocess.Popen(
        [sys.executable, str(HERE.parent / "tests" / "breaking_proxy.py"), "--upstream", str(_port)]
        + [arg for i, mode in enumerate(_modes, 1) for arg in ("--port", f"{_port + i}:{mode}")]
    )
    atexit.register(_proxies.terminate)
