"""Tiny wheels built on the spot, so install tests never need a package index."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build_wheel(folder: Path, name: str, version: str = "1.0", requires: tuple[str, ...] = (), value: str | None = None) -> Path:
    """A pure-Python wheel with one module ``<name>`` whose VALUE is ``value``."""
    module = name.replace("-", "_")
    dist_info = f"{module}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {r}\n" for r in requires
    )
    files = {
        f"{module}/__init__.py": f"VALUE = {value or name + '-' + version!r}\n".encode(),
        f"{dist_info}/METADATA": metadata.encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: jupyter-marimo-proxy-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = [f"{path},sha256={_digest(data)},{len(data)}" for path, data in files.items()]
    files[f"{dist_info}/RECORD"] = ("\n".join(record + [f"{dist_info}/RECORD,,"]) + "\n").encode()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in files.items():
            archive.writestr(member, data)
    return path


FIVE = ("jmp-alpha", "jmp-bravo", "jmp-charlie", "jmp-delta", "jmp-echo")


def build_fixture_wheelhouse(folder: Path) -> Path:
    """The wheels the install tests and the benchmark use."""
    for name in FIVE:
        build_wheel(folder, name)
    build_wheel(folder, "jmp-fixture", "1.0")
    build_wheel(folder, "jmp-fixture", "2.0")
    build_wheel(folder, "jmp-withdep", "1.0", requires=("jmp-leaf>=1",))
    build_wheel(folder, "jmp-leaf", "1.0")
    build_wheel(folder, "jmp-live", "1.0")
    # marimo depends on click; this one wants a click that would break marimo.
    build_wheel(folder, "jmp-breaks-marimo", "1.0", requires=("click<1",))
    return folder
