"""Bring a pair in step: regenerate the stale side from the changed one with
marimo's own ``convert`` (notebook -> marimo) and ``export ipynb`` (marimo ->
notebook), then record the sync.

A side that changed since the last sync is never overwritten unless forced.
Every write goes through ``write_in_root`` with the pair's folder as the
root, so a twin that is a symlink is refused, never written through.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..paths import PathRefused, write_in_root
from . import discovery as d
from .record import load_record

NOTEBOOK, MARIMO = "ipynb", "marimo"


class SyncRefused(Exception):
    """The sync would overwrite a side that changed, or cannot run; the message says what to do."""


@dataclass
class SyncResult:
    twin: d.Twin
    action: str  # "none", "wrote-marimo", "wrote-ipynb", "marked", "refused", "failed"
    message: str

    def to_json(self, relative_to: Path | None = None) -> dict:
        return {"pair": self.twin.to_json(relative_to), "action": self.action, "message": self.message}


def run_marimo(python: str, args: list[str], cwd: Path, timeout: float = 300) -> tuple[int, str]:
    """``<venv python> -I -m marimo ...``: -I so that a marimo.py in the folder cannot stand in for marimo."""
    try:
        done = subprocess.run(
            [python, "-I", "-m", "marimo", *args],
            cwd=str(cwd),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return 124, f"marimo {args[0]} did not finish within {timeout:g} seconds."
    return done.returncode, done.stdout.decode("utf-8", errors="replace").strip()


def produce(python: str, args: list[str], source: Path, output_name: str, timeout: float = 300, accept_failure: bool = False) -> tuple[bytes, str]:
    """Run marimo writing into a private temporary folder; the caller decides where the bytes go."""
    with tempfile.TemporaryDirectory(prefix="jupyter-marimo-twins-") as scratch:
        output = Path(scratch) / output_name
        code, text = run_marimo(python, [*args, "-o", str(output)], cwd=source.parent, timeout=timeout)
        if output.is_file() and (code == 0 or accept_failure):
            return output.read_bytes(), text
        last = next((line.strip() for line in reversed(text.splitlines()) if line.strip()), f"exit code {code}")
        raise SyncRefused(f"marimo {args[0]} failed on {source.name}: {last}")


def convert_notebook(python: str, ipynb: Path) -> bytes:
    return produce(python, ["convert", ipynb.name], ipynb, "converted.py")[0]


def export_marimo(python: str, marimo: Path) -> bytes:
    return produce(python, ["export", "ipynb", marimo.name, "--sort", "top-down"], marimo, "exported.ipynb")[0]


def natural_source(twin: d.Twin) -> str | None:
    """The side to regenerate from when nothing is forced; None when it is not decidable."""
    if twin.state in (d.NOTEBOOK_CHANGED, d.MISSING_MARIMO):
        return NOTEBOOK
    if twin.state in (d.MARIMO_CHANGED, d.MISSING_NOTEBOOK):
        return MARIMO
    if twin.state == d.NO_TWIN:
        return NOTEBOOK if twin.ipynb_path.is_file() else MARIMO
    return None


def plan(twin: d.Twin, source: str | None, force: bool) -> str | None:
    """The side to regenerate from, or None for nothing to do; SyncRefused when it would lose work."""
    if twin.state == d.IN_STEP and source is None:
        return None
    natural = natural_source(twin)
    chosen = source or natural
    if chosen is None:
        if twin.state == d.CONFLICT:
            raise SyncRefused(
                f"{twin.ipynb} and {twin.marimo} both changed since the last sync. Choose the side to keep "
                "with --from ipynb or --from marimo, and --force to overwrite the other."
            )
        raise SyncRefused(
            f"{twin.ipynb} and {twin.marimo} were never synced. If they are already in step, record it with --mark; "
            "else choose the side to keep with --from ipynb or --from marimo, and --force to overwrite the other."
        )
    source_path = twin.ipynb_path if chosen == NOTEBOOK else twin.marimo_path
    if not source_path.is_file():
        raise SyncRefused(f"{source_path.name} does not exist; nothing to sync from.")
    target_path = twin.marimo_path if chosen == NOTEBOOK else twin.ipynb_path
    target_changed = target_path.exists() and (
        twin.state in (d.CONFLICT, d.UNRECORDED)
        or (chosen == NOTEBOOK and twin.state == d.MARIMO_CHANGED)
        or (chosen == MARIMO and twin.state == d.NOTEBOOK_CHANGED)
        or (twin.state == d.NO_TWIN)
    )
    if target_changed and not force:
        raise SyncRefused(
            f"{target_path.name} changed since the last sync (or was never synced); it is not overwritten without --force."
        )
    return chosen


def sync_twin(python: str, twin: d.Twin, *, source: str | None = None, force: bool = False, allow_hidden: bool = True) -> SyncResult:
    try:
        chosen = plan(twin, source, force)
    except SyncRefused as refused:
        return SyncResult(twin, "refused", str(refused))
    if chosen is None:
        return SyncResult(twin, "none", "already in step")
    root = twin.folder
    try:
        if chosen == NOTEBOOK:
            data = convert_notebook(python, twin.ipynb_path)
            write_in_root(root, twin.marimo_path, data, overwrite=True, allow_hidden=allow_hidden)
            action, message = "wrote-marimo", f"wrote {twin.marimo} from {twin.ipynb} (marimo convert)"
        else:
            data = export_marimo(python, twin.marimo_path)
            write_in_root(root, twin.ipynb_path, data, overwrite=True, allow_hidden=allow_hidden)
            action, message = "wrote-ipynb", f"wrote {twin.ipynb} from {twin.marimo} (marimo export ipynb)"
        record_sync(twin, chosen, allow_hidden)
    except (SyncRefused, PathRefused, OSError) as error:
        return SyncResult(twin, "failed", str(error))
    return SyncResult(d.pair_state(twin.folder, twin.ipynb, twin.marimo, load_record(twin.folder).find(ipynb=twin.ipynb).synced, twin.explicit), action, message)


def record_sync(twin: d.Twin, source: str, allow_hidden: bool = True) -> None:
    record = load_record(twin.folder)
    record.mark_synced(twin.ipynb, twin.marimo, twin.ipynb_path.read_bytes(), twin.marimo_path.read_bytes(), source)
    record.save(twin.folder, allow_hidden)


def mark_in_step(twin: d.Twin, allow_hidden: bool = True) -> SyncResult:
    """Record a pair as in step as it is now (after checking it, or after syncing by hand)."""
    if not (twin.ipynb_path.is_file() and twin.marimo_path.is_file()):
        return SyncResult(twin, "refused", "both files must exist to be marked in step")
    try:
        record_sync(twin, "mark", allow_hidden)
    except (PathRefused, OSError) as error:
        return SyncResult(twin, "failed", str(error))
    synced = load_record(twin.folder).find(ipynb=twin.ipynb).synced
    return SyncResult(d.pair_state(twin.folder, twin.ipynb, twin.marimo, synced, twin.explicit), "marked", "recorded as in step")
