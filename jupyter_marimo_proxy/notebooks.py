"""Both formats side by side: convert, export, create, recognise marimo notebooks.

Conversion and export are marimo's own commands, run with the user venv's
interpreter, so they behave exactly as ``marimo convert`` / ``marimo export``.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path

import os
import tempfile

from .paths import PathRefused, _parts, check_target, resolve_in_root, write_in_root

MARIMO_SUFFIX = ".marimo.py"
_APP_LINE = re.compile(r"^app\s*=\s*marimo\.App\(", re.MULTILINE)
_IMPORT_MARIMO = re.compile(r"^import marimo\b", re.MULTILINE)
SNIFF_BYTES = 256 * 1024

NEW_NOTEBOOK = '''import marimo

app = marimo.App(width="medium")


@app.cell
def _():
    import marimo as mo
    return (mo,)


@app.cell
def _():
    return


if __name__ == "__main__":
    app.run()
'''


class CommandFailed(Exception):
    """marimo's command failed; the message is marimo's own."""


class TargetExists(Exception):
    def __init__(self, target: Path) -> None:
        super().__init__(f"{target.name} already exists.")
        self.target = target
        self.suggestion = another_name(target)


# Another name for a target that exists: JupyterLab's own convention for a
# second version of a file ("Duplicate" gives ``analysis-Copy1.ipynb``), so
# the name reads as a sibling of the first. Unlike jupyter_server's
# increment_filename, the whole suffix is kept: ``analysis-Copy1.marimo.py``,
# never ``analysis.marimo-Copy1.py``.
COPY_INFIX = "-Copy"


def split_suffix(name: str) -> tuple[str, str]:
    """``analysis.marimo.py`` -> (``analysis``, ``.marimo.py``); ``x.ipynb`` -> (``x``, ``.ipynb``)."""
    for suffix in (MARIMO_SUFFIX, ".py", ".ipynb"):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], name[-len(suffix) :]
    return name, ""


def another_name(target: Path) -> Path:
    """The first free ``<stem>-Copy<n><suffix>`` next to ``target``."""
    stem, suffix = split_suffix(target.name)
    # A stem that is already a copy counts on from its number, not "-Copy1-Copy1".
    match = re.fullmatch(rf"(.*){re.escape(COPY_INFIX)}(\d+)", stem)
    base, number = (match.group(1), int(match.group(2)) + 1) if match else (stem, 1)
    while True:
        candidate = target.with_name(f"{base}{COPY_INFIX}{number}{suffix}")
        if not os.path.lexists(candidate):
            return candidate
        number += 1


def named_target(root: Path, relative: object, suffixes: tuple[str, ...], allow_hidden: bool) -> Path:
    """The file a user named for the result (a contents path): its folder must
    be inside the root, its name must end with one of ``suffixes``. Whether it
    may be written (a link, a folder, hidden, too long) is ``check_target``'s."""
    if not isinstance(relative, str):
        raise PathRefused(400, "target must be a path relative to the Jupyter root.")
    if not relative.strip():
        raise PathRefused(400, "The new name is empty.")
    # The same rules as every path from the browser: relative, no "..".
    parts = _parts(relative)
    folder, name = "/".join(parts[:-1]), parts[-1]
    if name != name.strip():
        raise PathRefused(400, f"{name!r} starts or ends with a space.")
    if not any(name.lower().endswith(suffix) and len(name) > len(suffix) for suffix in suffixes):
        raise PathRefused(400, f"{name} must end with {' or '.join(suffixes)}.")
    directory = resolve_in_root(root, folder or ".", kind="dir", must_exist=True, allow_hidden=allow_hidden)
    target = directory / name
    check_target(root, target, allow_hidden)
    return target


@dataclass
class CommandResult:
    output: str


def is_marimo_notebook(path: Path) -> bool:
    if path.suffix != ".py" or not path.is_file():
        return False
    with open(path, encoding="utf-8", errors="replace") as handle:
        head = handle.read(SNIFF_BYTES)
    return bool(_IMPORT_MARIMO.search(head) and _APP_LINE.search(head))


def marimo_target_for(notebook: Path) -> Path:
    """``x.ipynb`` -> ``x.marimo.py``, next to it."""
    return notebook.with_name(notebook.stem + MARIMO_SUFFIX)


def ipynb_target_for(notebook: Path) -> Path:
    """``x.marimo.py`` or ``x.py`` -> ``x.ipynb``, next to it."""
    name = notebook.name
    stem = name[: -len(MARIMO_SUFFIX)] if name.endswith(MARIMO_SUFFIX) else notebook.stem
    return notebook.with_name(stem + ".ipynb")


def free_name(directory: Path, stem: str = "untitled", suffix: str = MARIMO_SUFFIX) -> Path:
    candidate = directory / f"{stem}{suffix}"
    number = 1
    # lexists: a dangling symlink holds its name too.
    while os.path.lexists(candidate):
        candidate = directory / f"{stem}{number}{suffix}"
        number += 1
    return candidate


async def run_marimo(python: str, args: list[str], cwd: Path, timeout: float = 120) -> CommandResult:
    process = await asyncio.create_subprocess_exec(
        python,
        # Isolated: a marimo.py beside the notebook must not stand in for marimo.
        "-I",
        "-m",
        "marimo",
        *args,
        cwd=str(cwd),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(), timeout)
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()
        raise CommandFailed(f"marimo {args[0]} did not finish within {timeout:g} seconds.") from None
    text = out.decode("utf-8", errors="replace").strip()
    if process.returncode != 0:
        raise CommandFailed(text or f"marimo {args[0]} exited with code {process.returncode}.")
    return CommandResult(text)


async def _produce(python: str, args: list[str], source: Path, output_name: str) -> bytes:
    """Run marimo with its output going to a private temporary folder, not the root:
    the result reaches the root only through ``write_in_root``."""
    with tempfile.TemporaryDirectory(prefix="jupyter-marimo-proxy-") as scratch:
        output = Path(scratch) / output_name
        await run_marimo(python, [*args, "-o", str(output)], cwd=source.parent)
        return output.read_bytes()


async def convert_to_marimo(
    python: str, source: Path, overwrite: bool, root: Path, allow_hidden: bool, target_path: object = None
) -> Path:
    """To ``x.marimo.py`` next to ``source``, or to ``target_path`` (a contents path ending in .py)."""
    if source.suffix != ".ipynb":
        raise PathRefused(400, f"{source.name} is not a Jupyter notebook (.ipynb).")
    if target_path is None:
        target = marimo_target_for(source)
    else:
        target = named_target(root, target_path, (".py",), allow_hidden)
    check_target(root, target, allow_hidden)
    if target.exists() and not overwrite:
        raise TargetExists(target)
    data = await _produce(python, ["convert", source.name], source, "converted.py")
    _write(root, target, data, overwrite, allow_hidden)
    return target


async def export_to_ipynb(
    python: str, source: Path, overwrite: bool, root: Path, allow_hidden: bool, target_path: object = None
) -> Path:
    """To ``x.ipynb`` next to ``source``, or to ``target_path`` (a contents path ending in .ipynb)."""
    if not is_marimo_notebook(source):
        raise PathRefused(400, f"{source.name} is not a marimo notebook.")
    if target_path is None:
        target = ipynb_target_for(source)
    else:
        target = named_target(root, target_path, (".ipynb",), allow_hidden)
    check_target(root, target, allow_hidden)
    if target.exists() and not overwrite:
        raise TargetExists(target)
    data = await _produce(python, ["export", "ipynb", source.name, "--sort", "top-down"], source, "exported.ipynb")
    _write(root, target, on_marimo_kernel(data, await kernel_language_info(python)), overwrite, allow_hidden)
    return target


# What the venv's kernel (ipykernel) says about its language, as JSON.
_LANGUAGE_INFO = "import json; from ipykernel.ipkernel import IPythonKernel as K; print(json.dumps(K.language_info))"


async def kernel_language_info(python: str) -> dict | None:
    """The ``language_info`` the marimo venv's kernel reports when it starts,
    or None if it cannot be asked (the notebook then just lacks it)."""
    import json

    try:
        process = await asyncio.create_subprocess_exec(
            python,
            "-I",
            "-c",
            _LANGUAGE_INFO,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        out, _ = await asyncio.wait_for(process.communicate(), 60)
        if process.returncode != 0:
            return None
        info = json.loads(out.decode("utf-8").strip().splitlines()[-1])
    except (OSError, ValueError, IndexError, asyncio.TimeoutError):
        return None
    return info if isinstance(info, dict) else None


def on_marimo_kernel(data: bytes, language_info: dict | None = None) -> bytes:
    """The exported notebook names the marimo venv's kernel, as JupyterLab writes it,
    so that it opens on the venv's packages without a kernel dialog and unmodified:
    JupyterLab writes the kernel's ``language_info`` into a notebook when the kernel
    starts, which marks a notebook without the same one as modified."""
    import json

    from .kernelspec import DISPLAY_NAME, KERNEL_NAME

    try:
        notebook = json.loads(data)
    except ValueError:
        return data
    metadata = notebook.setdefault("metadata", {})
    metadata["kernelspec"] = {"display_name": DISPLAY_NAME, "language": "python", "name": KERNEL_NAME}
    if language_info is not None:
        metadata["language_info"] = language_info
    return (json.dumps(notebook, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def _write(root: Path, target: Path, data: bytes, overwrite: bool, allow_hidden: bool) -> None:
    try:
        write_in_root(root, target, data, overwrite=overwrite, allow_hidden=allow_hidden)
    except PathRefused as refused:
        if refused.status == 409:
            raise TargetExists(target) from None
        raise


def create_notebook(directory: Path, root: Path, allow_hidden: bool) -> Path:
    for _ in range(100):
        target = free_name(directory)
        try:
            write_in_root(root, target, NEW_NOTEBOOK.encode("utf-8"), overwrite=False, allow_hidden=allow_hidden)
        except PathRefused as refused:
            if refused.status == 409:
                continue  # the name was taken meanwhile
            raise
        return target
    raise PathRefused(409, "Could not find a free name for the new notebook.")
