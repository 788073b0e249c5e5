"""No file operation writes outside the Jupyter root, whatever the root holds
(security issue #9).

The hostile paths of test_notebooks_api are about the *source* a request names;
these are about the *target* that is written (a symlink planted where the
result goes, a hidden folder, a name too long), about files in the root that
shadow marimo or this extension (``python -m X`` puts the working directory
first on ``sys.path``), and about a requirements file swapped for a symlink
while the server reads it.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
import requests

from jupyter_process import JupyterServer

API = "jupyter-marimo-proxy/"
MARKER_PACKAGE = "outside-secret-marker"

MARIMO_NOTEBOOK = """import marimo

app = marimo.App()


@app.cell
def _():
    x = 1
    return (x,)


if __name__ == "__main__":
    app.run()
"""


def notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("print(x)")]
    return nb


def make_server(base: Path, wheelhouse: Path, *extra: str, **options) -> JupyterServer:
    return JupyterServer(
        root_dir=base / "root",
        state_dir=base / "state",
        extra_args=[f"--MarimoProxy.find_links={wheelhouse}", "--MarimoProxy.no_index=True", *extra],
        **options,
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory, wheelhouse):
    base = tmp_path_factory.mktemp("confined")
    (base / "outside").mkdir()
    jupyter = make_server(base, wheelhouse).start()
    yield jupyter
    jupyter.stop()


@pytest.fixture(scope="module")
def hidden_allowed(tmp_path_factory, wheelhouse):
    """Jupyter configured to show and write hidden files."""
    jupyter = make_server(tmp_path_factory.mktemp("hidden"), wheelhouse, "--ContentsManager.allow_hidden=True").start()
    yield jupyter
    jupyter.stop()


@pytest.fixture
def outside(server) -> Path:
    return server.root_dir.parent / "outside"


def snapshot(*folders: Path) -> dict[str, tuple]:
    """Every entry under the folders, as lstat sees it (a symlink is not followed)."""
    found = {}
    for folder in folders:
        for current, dirs, files in os.walk(folder):
            for name in dirs + files:
                path = os.path.join(current, name)
                info = os.lstat(path)
                link = os.readlink(path) if os.path.islink(path) else None
                found[path] = (info.st_mode, info.st_size, info.st_mtime_ns, link)
    return found


def post(server: JupyterServer, route: str, body: dict) -> requests.Response:
    response = server.post(API + route, json=body)
    shown = {k: (v[:60] + "…" if isinstance(v, str) and len(v) > 60 else v) for k, v in body.items()}
    assert response.status_code < 500, f"{route} {shown} answered {response.status_code}: {response.text[:500]}"
    return response


# -- a symlink where the result goes ------------------------------------------------


def prepare_source(folder: Path, route: str) -> tuple[str, str]:
    """A source file for ``route`` in ``folder``; its name and the target's name."""
    if route == "convert":
        nbformat.write(notebook(), folder / "a.ipynb")
        return "a.ipynb", "a.marimo.py"
    (folder / "a.marimo.py").write_text(MARIMO_NOTEBOOK)
    return "a.marimo.py", "a.ipynb"


@pytest.mark.parametrize("overwrite", [True, False], ids=["overwrite", "no-overwrite"])
@pytest.mark.parametrize("link", ["to-an-outside-file", "dangling"])
@pytest.mark.parametrize("route", ["convert", "export"])
def test_a_symlinked_target_is_refused_and_nothing_is_written(server, outside, route, link, overwrite):
    folder = server.root_dir / f"link-{route}-{link}-{overwrite}"
    folder.mkdir()
    source, target = prepare_source(folder, route)
    victim = outside / f"victim-{folder.name}"
    if link == "to-an-outside-file":
        victim.write_text("the outside file, untouched\n")
    os.symlink(victim, folder / target)
    before = snapshot(server.root_dir, outside)
    victim_before = (victim.read_text(), victim.stat().st_mtime_ns) if victim.exists() else None

    response = post(server, route, {"path": f"{folder.name}/{source}", "overwrite": overwrite})
    assert response.status_code == 400, (response.status_code, response.text[:500])
    assert response.json()["message"]
    assert snapshot(server.root_dir, outside) == before, "something was written"
    if victim_before is None:
        assert not victim.exists(), "the dangling link's target was created outside the root"
    else:
        assert (victim.read_text(), victim.stat().st_mtime_ns) == victim_before

    # The legitimate path: without the link, the same request writes the target.
    (folder / target).unlink()
    again = post(server, route, {"path": f"{folder.name}/{source}", "overwrite": overwrite})
    assert again.status_code == 200, again.text
    assert (folder / target).is_file() and not (folder / target).is_symlink()


# -- hidden folders ---------------------------------------------------------------


def hidden_case(root: Path, route: str) -> dict:
    folder = root / ".hidden"
    folder.mkdir(exist_ok=True)
    if route == "convert":
        nbformat.write(notebook(), folder / "a.ipynb")
        return {"path": ".hidden/a.ipynb", "overwrite": True}
    if route == "export":
        (folder / "a.marimo.py").write_text(MARIMO_NOTEBOOK)
        return {"path": ".hidden/a.marimo.py", "overwrite": True}
    return {"directory": ".hidden"}


@pytest.mark.parametrize("route", ["convert", "export", "new"])
def test_writing_into_a_hidden_folder_is_refused(server, outside, route):
    body = hidden_case(server.root_dir, route)
    before = snapshot(server.root_dir, outside)
    response = post(server, route, body)
    assert response.status_code == 403, (response.status_code, response.text[:500])
    assert snapshot(server.root_dir, outside) == before


@pytest.mark.parametrize("route", ["convert", "export", "new"])
def test_writing_into_a_hidden_folder_is_allowed_when_jupyter_allows_hidden(hidden_allowed, route):
    body = hidden_case(hidden_allowed.root_dir, route)
    response = post(hidden_allowed, route, body)
    assert response.status_code in (200, 201), (response.status_code, response.text[:500])
    assert response.json()["path"].startswith(".hidden/")
    assert (hidden_allowed.root_dir / response.json()["path"]).is_file()


# -- names too long ---------------------------------------------------------------


def name_of_bytes(length: int, unit: str) -> str:
    """A file stem of exactly ``length`` bytes in UTF-8."""
    width = len(unit.encode())
    return unit * (length // width) + "a" * (length % width)


@pytest.mark.parametrize("unit", ["a", "é"], ids=["ascii", "two-byte-utf8"])
@pytest.mark.parametrize("route", ["convert", "export"])
def test_a_target_name_over_255_bytes_is_a_400(server, outside, route, unit):
    folder = server.root_dir / f"long-{route}-{len(unit.encode())}"
    folder.mkdir()
    source_suffix = ".ipynb" if route == "convert" else ".py"
    stem = name_of_bytes(255 - len(source_suffix), unit)
    source = folder / (stem + source_suffix)  # 255 bytes: the longest name the file system takes
    if route == "convert":
        nbformat.write(notebook(), source)
    else:
        source.write_text(MARIMO_NOTEBOOK)
    target_suffix = ".marimo.py" if route == "convert" else ".ipynb"
    assert len((stem + target_suffix).encode()) > 255
    before = snapshot(server.root_dir, outside)
    response = post(server, route, {"path": f"{folder.name}/{source.name}", "overwrite": True})
    assert response.status_code == 400, (response.status_code, response.text[:500])
    assert response.json()["message"]
    assert snapshot(server.root_dir, outside) == before


# -- new notebooks ----------------------------------------------------------------


def test_new_never_writes_through_a_dangling_untitled_link(server, outside):
    ghost = outside / "ghost-untitled.marimo.py"
    link = server.root_dir / "untitled.marimo.py"
    os.symlink(ghost, link)
    before = snapshot(server.root_dir, outside)
    response = post(server, "new", {"directory": "."})
    assert response.status_code in (201, 400), (response.status_code, response.text[:500])
    assert not ghost.exists(), "new wrote through the dangling link, outside the root"
    assert link.is_symlink() and os.readlink(link) == str(ghost)
    after = snapshot(server.root_dir, outside)
    if response.status_code == 201:
        created = response.json()["path"]
        assert created != "untitled.marimo.py"
        path = server.root_dir / created
        assert path.is_file() and not path.is_symlink()
        assert set(after) - set(before) == {str(path)}
    else:
        assert after == before


# -- files in the root that would shadow marimo or the extension -------------------

MARKER_SCRIPT = """import pathlib, sys
pathlib.Path({marker!r}).write_text("shadowed: " + __file__)
sys.exit(7)
"""

# A venv.py that notes it ran, then hands over to the real venv (so nothing else breaks).
DELEGATING_VENV = """import os, pathlib, runpy, sys
pathlib.Path({marker!r}).write_text("shadowed: " + __file__)
here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
sys.modules.pop("venv", None)
runpy.run_module("venv", run_name="__main__", alter_sys=True)
"""


@pytest.fixture(scope="module")
def shadowed_root(tmp_path_factory, wheelhouse):
    """A root with a user's own marimo.py, at the top and beside a notebook."""
    base = tmp_path_factory.mktemp("shadow-root")
    root = base / "root"
    (root / "project").mkdir(parents=True)
    (root / "marimo.py").write_text(MARKER_SCRIPT.format(marker=str(base / "marker-root-marimo")))
    (root / "project" / "marimo.py").write_text(MARKER_SCRIPT.format(marker=str(base / "marker-project-marimo")))
    nbformat.write(notebook(), root / "top.ipynb")
    nbformat.write(notebook(), root / "project" / "nb.ipynb")
    jupyter = make_server(base, wheelhouse, "--MarimoProxy.startup_timeout=30").start()
    yield jupyter
    jupyter.stop()


def markers(server: JupyterServer) -> dict[str, str]:
    return {p.name: p.read_text() for p in server.root_dir.parent.glob("marker-*")}


def test_a_marimo_py_in_the_root_does_not_shadow_marimo(shadowed_root):
    page = shadowed_root.get("marimo/")
    assert page.status_code == 200 and "<marimo-version" in page.text, (page.status_code, page.text[:1000])
    assert markers(shadowed_root) == {}, "the user's marimo.py ran instead of marimo"


@pytest.mark.parametrize("where", ["project/nb", "top"])
def test_a_marimo_py_beside_a_notebook_does_not_break_convert(shadowed_root, where):
    converted = post(shadowed_root, "convert", {"path": f"{where}.ipynb", "overwrite": True})
    assert converted.status_code == 200, converted.text[:1000]
    assert "marimo.App" in (shadowed_root.root_dir / f"{where}.marimo.py").read_text()
    exported = post(shadowed_root, "export", {"path": f"{where}.marimo.py", "overwrite": True})
    assert exported.status_code == 200, exported.text[:1000]
    assert markers(shadowed_root) == {}, "the user's marimo.py ran instead of marimo"


@pytest.fixture(scope="module")
def shadowed_cwd(tmp_path_factory, wheelhouse):
    """Jupyter started from its root (``cd notebooks; jupyter lab``), where the user
    keeps a jupyter_marimo_proxy.py and a venv.py of their own."""
    base = tmp_path_factory.mktemp("shadow-cwd")
    root = base / "root"
    root.mkdir()
    (root / "jupyter_marimo_proxy.py").write_text(MARKER_SCRIPT.format(marker=str(base / "marker-extension")))
    (root / "venv.py").write_text(DELEGATING_VENV.format(marker=str(base / "marker-venv")))
    nbformat.write(notebook(), root / "nb.ipynb")
    jupyter = make_server(
        base,
        wheelhouse,
        "--MarimoProxy.startup_timeout=30",
        cwd=root,
        # As users start it: the `jupyter server` script does not put the working
        # directory on Jupyter's own sys.path (`python -m jupyter_server` would).
        command=[str(Path(sys.executable).parent / "jupyter-server")],
    ).start()
    yield jupyter
    jupyter.stop()


def test_a_jupyter_marimo_proxy_py_in_the_working_directory_does_not_shadow_the_extension(shadowed_cwd):
    page = shadowed_cwd.get("marimo/")
    assert page.status_code == 200 and "<marimo-version" in page.text, (page.status_code, page.text[:1000])
    assert "marker-extension" not in markers(shadowed_cwd), "the user's jupyter_marimo_proxy.py ran"


def test_a_venv_py_in_the_working_directory_is_not_run(shadowed_cwd):
    converted = post(shadowed_cwd, "convert", {"path": "nb.ipynb", "overwrite": True})  # needs the venv
    assert converted.status_code == 200, converted.text[:1000]
    assert (shadowed_cwd.state_dir / "venv" / "bin" / "python").exists()
    assert "marker-venv" not in markers(shadowed_cwd), "the user's venv.py ran when the venv was made"


# -- a requirements file swapped for a symlink while it is read ---------------------


def test_a_requirements_file_swapped_for_a_symlink_never_leaks_or_installs_it(server, outside):
    # Installed once, so the jobs the race starts have nothing to do.
    first = server.post(API + "packages", json={"specs": ["jmp-alpha"]})
    assert first.status_code == 202
    assert server.wait_job(first.headers["Location"])["state"] == "succeeded"

    valid_outside = outside / "outside-requirements.txt"
    valid_outside.write_text(f"{MARKER_PACKAGE}\n")
    invalid_outside = outside / "outside-invalid-requirements.txt"
    invalid_outside.write_text(f"-r {MARKER_PACKAGE}\n{MARKER_PACKAGE} @ file:///{MARKER_PACKAGE}\n")
    staging = server.root_dir / "race"
    staging.mkdir()
    requirements = server.root_dir / "reqs.txt"
    requirements.write_text("jmp-alpha\n")

    stop = threading.Event()
    swaps = [0]

    def swapper() -> None:
        number = 0
        while not stop.is_set():
            for target in (None, valid_outside, None, invalid_outside):
                number += 1
                temporary = staging / f"swap-{number}"
                if target is None:
                    temporary.write_text("jmp-alpha\n")
                else:
                    os.symlink(target, temporary)
                os.replace(temporary, requirements)  # atomic: reqs.txt always exists
            swaps[0] = number

    thread = threading.Thread(target=swapper, daemon=True)
    thread.start()
    answers: list[tuple[int, str]] = []
    deadline = time.monotonic() + 25
    try:
        with requests.Session() as session:
            session.headers.update(server.auth)
            while len(answers) < 500 and time.monotonic() < deadline:
                response = session.post(server.url + API + "packages", json={"requirements_file": "reqs.txt"}, timeout=30)
                answers.append((response.status_code, response.text))
    finally:
        stop.set()
        thread.join(10)
    print(f"{len(answers)} answers during {swaps[0]} swaps")

    leaked = [text[:300] for status, text in answers if MARKER_PACKAGE in text]
    assert not leaked, f"{len(leaked)} answers quote the outside file, e.g. {leaked[:3]}"
    errors = [text[:300] for status, text in answers if status >= 500]
    assert not errors, f"{len(errors)} answers were server errors, e.g. {errors[:3]}"
    statuses = {status for status, _ in answers}
    # Both sides of the race were seen: the file in the root is installed, the link refused.
    assert 202 in statuses and statuses & {400, 403, 404}, statuses
    jobs = server.get(API + "jobs").json()
    assert not [job for job in jobs if MARKER_PACKAGE in str(job)], "a job installs from the outside file"
