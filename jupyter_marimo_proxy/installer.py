"""Which installer acts on the user venv: the bundled uv, else the venv's pip."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import asdict, dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Installer:
    name: str  # "uv" or "pip"
    path: str | None
    version: str | None

    def to_json(self) -> dict:
        return asdict(self)


@lru_cache(maxsize=1)
def _find_uv() -> tuple[str, str] | None:
    try:
        from uv import find_uv_bin

        path = find_uv_bin()
    except (ImportError, FileNotFoundError):
        path = shutil.which("uv")
    if not path:
        return None
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
    except OSError:
        return None
    version = out.stdout.strip().split(" ")[1] if out.returncode == 0 and " " in out.stdout else None
    return path, version


def choose_installer(preference: str = "auto") -> Installer:
    """uv unless configured otherwise or missing; pip runs as ``<venv python> -m pip``."""
    if preference in ("auto", "uv"):
        found = _find_uv()
        if found:
            return Installer("uv", found[0], found[1])
    try:
        import pip

        pip_version = pip.__version__
    except ImportError:
        pip_version = None
    return Installer("pip", None, pip_version)
