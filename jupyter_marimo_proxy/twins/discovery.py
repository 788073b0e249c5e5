"""Which files are twins, and the state of each pair against its sync record.

A twin pair is ``x.ipynb`` <-> ``x.marimo.py`` in one folder, or any two files
that folder's ``marimo-twins.json`` names as a pair. Symlinks are never
followed: a twin is a regular file in the folder searched.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from ..notebooks import MARIMO_SUFFIX, is_marimo_notebook
from .record import RECORD_NAME, Record, fingerprint_ipynb, fingerprint_marimo, load_record

IN_STEP = "in-step"
NOTEBOOK_CHANGED = "notebook-changed"
MARIMO_CHANGED = "marimo-changed"
CONFLICT = "conflict"
MISSING_NOTEBOOK = "missing-notebook"
MISSING_MARIMO = "missing-marimo"
UNRECORDED = "unrecorded"
NO_TWIN = "no-twin"

DESCRIPTIONS = {
    IN_STEP: "in step",
    NOTEBOOK_CHANGED: "the notebook changed since the last sync",
    MARIMO_CHANGED: "the marimo file changed since the last sync",
    CONFLICT: "both changed since the last sync (a conflict)",
    MISSING_NOTEBOOK: "the notebook is missing",
    MISSING_MARIMO: "the marimo file is missing",
    UNRECORDED: "never synced: no record says whether they are in step",
    NO_TWIN: "has no twin yet",
}
# States that make `twins` exit non-zero (a lone notebook is not a problem).
PROBLEMS = {NOTEBOOK_CHANGED, MARIMO_CHANGED, CONFLICT, MISSING_NOTEBOOK, MISSING_MARIMO, UNRECORDED}
SKIPPED_FOLDERS = {"node_modules", "__pycache__", "__marimo__", "site-packages"}


@dataclass
class Twin:
    folder: Path
    ipynb: str
    marimo: str
    state: str
    synced: dict | None = None
    explicit: bool = False

    @property
    def ipynb_path(self) -> Path:
        return self.folder / self.ipynb

    @property
    def marimo_path(self) -> Path:
        return self.folder / self.marimo

    @property
    def description(self) -> str:
        return DESCRIPTIONS[self.state]

    def to_json(self, relative_to: Path | None = None) -> dict:
        def show(path: Path) -> str:
            return os.path.relpath(path, relative_to) if relative_to else str(path)

        return {
            "ipynb": show(self.ipynb_path),
            "marimo": show(self.marimo_path),
            "state": self.state,
            "description": self.description,
            "synced": self.synced,
            "explicit": self.explicit,
        }


def _regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _default_marimo_name(ipynb_name: str) -> str:
    return ipynb_name[: -len(".ipynb")] + MARIMO_SUFFIX


def _default_ipynb_name(marimo_name: str) -> str:
    return marimo_name[: -len(MARIMO_SUFFIX)] + ".ipynb"


def pair_state(folder: Path, ipynb: str, marimo: str, synced: dict | None, explicit: bool = False) -> Twin:
    has_ipynb, has_marimo = _regular(folder / ipynb), _regular(folder / marimo)
    if not synced:
        if has_ipynb and has_marimo:
            state = UNRECORDED
        else:
            state = NO_TWIN if not explicit else (MISSING_MARIMO if has_ipynb else MISSING_NOTEBOOK)
        return Twin(folder, ipynb, marimo, state, synced, explicit)
    if not has_ipynb or not has_marimo:
        state = MISSING_MARIMO if has_ipynb else MISSING_NOTEBOOK
        return Twin(folder, ipynb, marimo, state, synced, explicit)
    notebook_changed = fingerprint_ipynb((folder / ipynb).read_bytes()) != synced.get("ipynb")
    marimo_changed = fingerprint_marimo((folder / marimo).read_bytes()) != synced.get("marimo")
    if notebook_changed and marimo_changed:
        state = CONFLICT
    elif notebook_changed:
        state = NOTEBOOK_CHANGED
    elif marimo_changed:
        state = MARIMO_CHANGED
    else:
        state = IN_STEP
    return Twin(folder, ipynb, marimo, state, synced, explicit)


def twins_in_folder(folder: Path, record: Record | None = None) -> list[Twin]:
    """Every pair in one folder (not its subfolders), lone notebooks included as ``no-twin``."""
    record = record if record is not None else load_record(folder)
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    files = {name for name in names if not name.startswith(".") and _regular(folder / name)}
    found: list[Twin] = []
    claimed: set[str] = set()
    for entry in record.pairs:
        default = entry.marimo == _default_marimo_name(entry.ipynb) if entry.ipynb.endswith(".ipynb") else False
        found.append(pair_state(folder, entry.ipynb, entry.marimo, entry.synced, explicit=not default))
        claimed.update((entry.ipynb, entry.marimo))
    for name in sorted(files - claimed):
        if name.endswith(".ipynb"):
            marimo = _default_marimo_name(name)
            claimed.update((name, marimo))
            found.append(pair_state(folder, name, marimo, None))
        elif name.endswith(MARIMO_SUFFIX) and _default_ipynb_name(name) not in claimed and is_marimo_notebook(folder / name):
            ipynb = _default_ipynb_name(name)
            claimed.update((name, ipynb))
            found.append(pair_state(folder, ipynb, name, None))
    found.sort(key=lambda twin: (twin.ipynb, twin.marimo))
    return found


def find_twins(paths: list[Path]) -> list[Twin]:
    """Pairs under each path: a folder is searched recursively (hidden folders and
    ``node_modules`` skipped, symlinked folders not followed); a file gives its own pair."""
    seen: set[tuple[Path, str, str]] = set()
    result: list[Twin] = []

    def add(twins: list[Twin]) -> None:
        for twin in twins:
            key = (twin.folder, twin.ipynb, twin.marimo)
            if key not in seen:
                seen.add(key)
                result.append(twin)

    for path in paths:
        path = Path(os.path.abspath(path))
        if path.is_dir():
            for current, dirs, _files in os.walk(path):
                dirs[:] = sorted(
                    d for d in dirs if not d.startswith(".") and d not in SKIPPED_FOLDERS and not os.path.islink(os.path.join(current, d))
                )
                add(twins_in_folder(Path(current)))
        elif path.name != RECORD_NAME:
            add([t for t in twins_in_folder(path.parent) if path.name in (t.ipynb, t.marimo)])
    return result


def twin_of(path: Path) -> Twin | None:
    matches = [t for t in twins_in_folder(path.parent) if path.name in (t.ipynb, t.marimo)]
    return matches[0] if matches else None
