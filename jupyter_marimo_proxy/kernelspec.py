"""A Jupyter kernel in the user venv, so an .ipynb twin sees the packages installed for marimo."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from .layout import StateLayout
from .private_files import PRIVATE_FILE, private_dir, write_private_file
from .venv import venv_python

KERNEL_NAME = "marimo-venv"
DISPLAY_NAME = "Python (marimo venv)"


def kernels_dir(layout: StateLayout) -> Path:
    return layout.root / "kernels"


def write_kernelspec(layout: StateLayout) -> Path:
    """kernel.json pointing at the venv's interpreter.

    The venv keeps its path when it is rebuilt, so the spec stays valid; the
    kernel fails with a clear message only while no venv exists yet.
    """
    layout.ensure()  # the state dir itself private before anything is put in it
    folder = private_dir(kernels_dir(layout) / KERNEL_NAME)
    private_dir(kernels_dir(layout))
    spec = {
        "argv": [str(venv_python(layout.venv_dir)), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": DISPLAY_NAME,
        "language": "python",
        "metadata": {"debugger": True, "jupyter_marimo_proxy": {"venv": str(layout.venv_dir)}},
    }
    write_private_file(folder / "kernel.json", json.dumps(spec, indent=2))
    copy_python_logos(folder)
    return folder


def copy_python_logos(folder: Path) -> None:
    """ipykernel's logos, so the Launcher shows a Python tile rather than a letter."""
    try:
        import ipykernel
    except ImportError:
        return
    resources = Path(ipykernel.__file__).parent / "resources"
    for logo in resources.glob("logo-*.*"):
        target = folder / logo.name
        if not target.exists():
            shutil.copyfile(logo, target)
        os.chmod(target, PRIVATE_FILE)


def register_kernelspec(serverapp, layout: StateLayout) -> None:
    """Serve the spec from our state dir: nothing is written to the user's Jupyter dirs."""
    write_kernelspec(layout)
    manager = serverapp.kernel_spec_manager
    directory = str(kernels_dir(layout))
    if directory not in manager.kernel_dirs:
        manager.kernel_dirs.append(directory)
