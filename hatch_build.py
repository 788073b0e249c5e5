"""Build hook that runs before hatch-jupyter-builder: says in one sentence what a
source build needs, instead of a bare "Could not find cmd (npm)" after 20 s."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

BUILT = Path("jupyter_marimo_proxy") / "labextension" / "static" / "style.js"


class FrontendPrerequisites(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        root = Path(self.root)
        if os.environ.get("SKIP_JUPYTER_BUILDER") or (root / BUILT).exists():
            return  # the frontend is already built (a wheel or sdist carries it)
        if shutil.which("npm") is None or shutil.which("node") is None:
            sys.exit(
                "jupyter-marimo-proxy: building from source compiles the JupyterLab frontend and needs "
                "Node.js 18 or newer with npm on PATH (Debian/Ubuntu: apt-get install nodejs npm); "
                "install them and run the build again, or install a wheel built elsewhere."
            )
        print(
            "jupyter-marimo-proxy: building the JupyterLab frontend (npm install, then webpack); "
            "this takes 1 to 3 minutes and needs the npm registry.",
            file=sys.stderr,
            flush=True,
        )
