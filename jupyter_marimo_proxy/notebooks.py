"""Both formats side by side: convert, export, create, recognise marimo notebooks.

Conversion and export are marimo's own commands, run with the user venv's
interpreter, so they behave exactly as ``marimo convert`` / ``marimo export``.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path

from .paths import PathRefused

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
    while candidate.exists():
        candidate = directory / f"{stem}{number}{suffix}"
        number += 1
    return candidate


async def run_marimo(python: str, args: list[str], cwd: Path, timeout: float = 120) -> CommandResult:
    process = await asyncio.create_subprocess_exec(
        python,
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


async def convert_to_marimo(python: str, source: Path, overwrite: bool) -> Path:
    if source.suffix != ".ipynb":
        raise PathRefused(400, f"{source.name} is not a Jupyter notebook (.ipynb).")
    target = marimo_target_for(source)
    if target.exists() and not overwrite:
        raise TargetExists(target)
    await run_marimo(python, ["convert", source.name, "-o", target.name], cwd=source.parent)
    return target


async def export_to_ipynb(python: str, source: Path, overwrite: bool) -> Path:
    if not is_marimo_notebook(source):
        raise PathRefused(400, f"{source.name} is not a marimo notebook.")
    target = ipynb_target_for(source)
    if target.exists() and not overwrite:
        raise TargetExists(target)
    await run_marimo(
        python, ["export", "ipynb", source.name, "-o", target.name, "--sort", "top-down"], cwd=source.parent
    )
    return target


def create_notebook(directory: Path) -> Path:
    target = free_name(directory)
    # "x" refuses to overwrite a file that appeared meanwhile.
    with open(target, "x", encoding="utf-8") as handle:
        handle.write(NEW_NOTEBOOK)
    return target
