"""The record of what the user asked for and what got installed in the venv.

It is what a rebuild of the venv reinstalls, so it is written atomically
(a temporary file, fsync, rename) and the previous version is kept as a backup.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

FORMAT_VERSION = 1


@dataclass
class Manifest:
    requested: list[str] = field(default_factory=list)
    installed: dict[str, str] = field(default_factory=dict)
    updated: float | None = None

    def to_json(self) -> dict:
        return {
            "format": FORMAT_VERSION,
            "requested": self.requested,
            "installed": self.installed,
            "updated": self.updated,
        }

    def add_requested(self, specs: list[str]) -> None:
        """A newer request for a package replaces the older one."""
        names = {canonicalize_name(Requirement(s).name) for s in specs}
        kept = [s for s in self.requested if canonicalize_name(Requirement(s).name) not in names]
        self.requested = kept + list(specs)

    def remove_requested(self, names: list[str]) -> None:
        drop = {canonicalize_name(n) for n in names}
        self.requested = [s for s in self.requested if canonicalize_name(Requirement(s).name) not in drop]


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
            updated=data.get("updated"),
        )
    return Manifest()


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + ".bak")


def save_manifest(path: Path, manifest: Manifest) -> None:
    manifest.updated = time.time()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
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
