"""The record of what the user asked for and what got installed in the venv.

It is what a rebuild of the venv reinstalls, so it is written atomically
(a temporary file of its own, fsync, rename) and the previous version is kept
as a backup. Several Jupyter servers of one user may share the state dir
(JupyterHub named servers, two ``jupyter lab``): every change is a
read-modify-write under an exclusive lock (``update_manifest``).
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

FORMAT_VERSION = 1


@dataclass
class Manifest:
    requested: list[str] = field(default_factory=list)
    installed: dict[str, str] = field(default_factory=dict)
    # name -> why the last repair could not reinstall it. Such a package stays
    # requested (the next repair tries again); an install or uninstall of it clears it.
    failed: dict[str, str] = field(default_factory=dict)
    updated: float | None = None

    def to_json(self) -> dict:
        return {
            "format": FORMAT_VERSION,
            "requested": self.requested,
            "installed": self.installed,
            "failed": self.failed,
            "updated": self.updated,
        }

    def add_requested(self, specs: list[str]) -> None:
        """A newer request for a package replaces the older one."""
        names = {canonicalize_name(Requirement(s).name) for s in specs}
        kept = [s for s in self.requested if canonicalize_name(Requirement(s).name) not in names]
        self.requested = kept + list(specs)
        for name in names:
            self.failed.pop(name, None)

    def remove_requested(self, names: list[str]) -> None:
        drop = {canonicalize_name(n) for n in names}
        self.requested = [s for s in self.requested if canonicalize_name(Requirement(s).name) not in drop]
        for name in drop:
            self.failed.pop(name, None)


def load_manifest(path: Path) -> Manifest:
    """The manifest, else its backup, else an empty one."""
    for candidate in (path, backup_path(path)):
        try:
            data = json.loads(candidate.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        return Manifest(
            requested=list(data.get("requested", [])),
            installed=dict(data.get("installed", {})),
            failed=dict(data.get("failed", {})),
            updated=data.get("updated"),
        )
    return Manifest()


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + ".bak")


def lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


@contextmanager
def manifest_lock(path: Path) -> Iterator[None]:
    """Exclusive across processes; held for the short read-modify-write only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path(path), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def save_manifest(path: Path, manifest: Manifest) -> None:
    """Write ``manifest`` as it is. Callers that change a loaded manifest use
    ``update_manifest``, which holds the lock from the read to the write."""
    manifest.updated = time.time()
    path.parent.mkdir(parents=True, exist_ok=True)
    # A name of its own: two writers never share (and truncate) one temporary file.
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(manifest.to_json(), handle, indent=2, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            # A hard link keeps the old version as the backup without a moment
            # where neither file exists.
            backup = backup_path(path)
            backup.unlink(missing_ok=True)
            os.link(path, backup)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def update_manifest(path: Path, change: Callable[[Manifest], None]) -> Manifest:
    """Load, change and save the manifest under the lock; returns what was saved."""
    with manifest_lock(path):
        manifest = load_manifest(path)
        change(manifest)
        save_manifest(path, manifest)
        return manifest
