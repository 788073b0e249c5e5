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


@dataclass(frozen=True)
class IndexSettings:
    """Index options from server configuration; never from the browser."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False

    def args(self) -> list[str]:
        # pip and uv pip accept the same spellings for these.
        args: list[str] = []
        if self.index_url:
            args += ["--index-url", self.index_url]
        for url in self.extra_index_urls:
            args += ["--extra-index-url", url]
        for link in self.find_links:
            args += ["--find-links", link]
        if self.no_index:
            args.append("--no-index")
        return args


def install_command(
    installer: Installer,
    python: str,
    specs: list[str],
    index: IndexSettings,
    constraints_file: str | None,
    requirement_files: tuple[str, ...] = (),
) -> list[str]:
    """``requirement_files`` come from server configuration only (they may carry options)."""
    constraint_args = ["--constraint", constraints_file] if constraints_file else []
    constraint_args += [arg for path in requirement_files for arg in ("--requirement", path)]
    if installer.name == "uv":
        head = [installer.path or "uv", "pip", "install", "--python", python]
    else:
        head = [python, "-I", "-m", "pip", "install", "--disable-pip-version-check", "--no-input"]
    # "--" ends the options: a spec can never be read as one.
    return [*head, *index.args(), *constraint_args, "--", *specs]


def uninstall_command(installer: Installer, python: str, names: list[str]) -> list[str]:
    if installer.name == "uv":
        return [installer.path or "uv", "pip", "uninstall", "--python", python, "--", *names]
    return [python, "-I", "-m", "pip", "uninstall", "--disable-pip-version-check", "--yes", "--", *names]
