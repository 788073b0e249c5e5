"""Run both sides of a pair headless on the marimo venv, each into notebook form.

- the ``.ipynb`` with nbclient on the "Python (marimo venv)" kernel (the
  kernelspec this extension serves from the state dir), in the notebook's folder;
- the ``.py`` with marimo's own runner: ``marimo export ipynb --include-outputs``.

Both give a notebook document (cells with sources and outputs) to compare.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..kernelspec import KERNEL_NAME, kernels_dir, write_kernelspec
from ..layout import StateLayout
from .sync import produce


@dataclass
class SideRun:
    cells: list[dict] = field(default_factory=list)
    error: str | None = None  # the side could not run at all
    seconds: float = 0.0


def run_marimo_side(python: str, marimo: Path, timeout: float = 600) -> SideRun:
    started = time.monotonic()
    try:
        # marimo exits 1 when a cell raised, having written the outputs anyway.
        data, _ = produce(
            python,
            ["export", "ipynb", marimo.name, "--include-outputs", "--sort", "top-down"],
            marimo,
            "run.ipynb",
            timeout=timeout,
            accept_failure=True,
        )
        cells = json.loads(data.decode("utf-8")).get("cells", [])
        return SideRun(cells, None, time.monotonic() - started)
    except Exception as error:  # noqa: BLE001 - reported, never raised
        return SideRun([], str(error), time.monotonic() - started)


def run_notebook_side(layout: StateLayout, ipynb: Path, timeout: float = 600, cell_timeout: float = 300) -> SideRun:
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    started = time.monotonic()
    try:
        notebook = nbformat.reads(ipynb.read_text(encoding="utf-8"), as_version=4)
        write_kernelspec(layout)
        specs = KernelSpecManager(kernel_dirs=[str(kernels_dir(layout))], ensure_native_kernel=False)
        manager = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)
        client = NotebookClient(
            notebook,
            km=manager,
            timeout=cell_timeout,
            startup_timeout=120,
            allow_errors=True,
            record_timing=False,
            resources={"metadata": {"path": str(ipynb.parent)}},
        )
        try:
            client.execute()
        finally:
            # nbclient shuts down only a kernel manager it made itself; this one
            # is ours. Left running, the kernel lives until this process exits.
            if manager.has_kernel:
                manager.shutdown_kernel(now=False)
        return SideRun([dict(cell) for cell in notebook.cells], None, time.monotonic() - started)
    except Exception as error:  # noqa: BLE001 - reported, never raised
        message = str(error).strip().splitlines()
        return SideRun([], f"{type(error).__name__}: {message[-1] if message else ''}", time.monotonic() - started)
