"""An exported notebook names the marimo venv's kernel, so JupyterLab opens it on
the venv's packages without a "Select Kernel" dialog."""

from __future__ import annotations

import subprocess
import sys

import nbformat

from jupyter_marimo_proxy.kernelspec import DISPLAY_NAME, KERNEL_NAME
from jupyter_marimo_proxy.notebooks import on_marimo_kernel

NOTEBOOK = '''import marimo

app = marimo.App()


@app.cell
def _():
    x = 1
    return (x,)
'''


def test_marimos_export_gets_the_marimo_venv_kernelspec(tmp_path):
    source = tmp_path / "nb.py"
    source.write_text(NOTEBOOK)
    output = tmp_path / "nb.ipynb"
    subprocess.run(
        [sys.executable, "-m", "marimo", "export", "ipynb", str(source), "-o", str(output), "--sort", "top-down"],
        check=True,
        capture_output=True,
    )
    data = on_marimo_kernel(output.read_bytes())
    notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec == {"display_name": DISPLAY_NAME, "language": "python", "name": KERNEL_NAME}
    # marimo's own metadata and the cells are kept.
    assert "marimo" in notebook.metadata and notebook.cells[0].source == "x = 1"


def test_something_that_is_not_json_is_left_alone():
    assert on_marimo_kernel(b"not json") == b"not json"


def test_the_kernels_language_info_is_written_as_jupyterlab_would():
    # JupyterLab writes the running kernel's language_info into the notebook;
    # the same one already there leaves the notebook unmodified.
    import asyncio
    import json

    from ipykernel.ipkernel import IPythonKernel

    from jupyter_marimo_proxy.notebooks import kernel_language_info

    info = asyncio.run(kernel_language_info(sys.executable))
    assert info == json.loads(json.dumps(IPythonKernel.language_info))
    notebook = json.loads(on_marimo_kernel(b'{"cells": [], "metadata": {}}', info))
    assert notebook["metadata"]["language_info"] == info
    assert asyncio.run(kernel_language_info("/nonexistent/python")) is None
