"""Paths from the browser, confined to the Jupyter root directory."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath


class PathRefused(Exception):
    """A path we will not touch; ``status`` is the HTTP answer (400, 403, 404)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def resolve_in_root(root: str | Path, relative: object, *, kind: str = "file", must_exist: bool = True) -> Path:
    """The real path of ``relative`` (a Jupyter contents path) inside ``root``.

    ``kind`` is "file", "dir" or "any". Absolute paths, ``..`` segments and
    symlinks that lead out of the root are refused, whatever the OS would do.
    """
    if not isinstance(relative, str) or not relative.strip():
        raise PathRefused(400, "A path relative to the Jupyter root is required.")
    if "\x00" in relative or len(relative) > 4096:
        raise PathRefused(400, "The path is not valid.")
    pure = PurePosixPath(relative.replace("\\", "/"))
    if pure.is_absolute() or relative.startswith(("/", "\\", "~")) or (len(relative) > 1 and relative[1] == ":"):
        raise PathRefused(400, f"{relative!r} is absolute; paths are relative to the Jupyter root.")
    if any(part == ".." for part in pure.parts):
        raise PathRefused(400, f"{relative!r} leaves the Jupyter root.")
    real_root = Path(os.path.realpath(root))
    candidate = Path(os.path.realpath(real_root.joinpath(*pure.parts)))
    if candidate != real_root and real_root not in candidate.parents:
        raise PathRefused(403, f"{relative!r} points outside the Jupyter root.")
    if must_exist and not candidate.exists():
        raise PathRefused(404, f"{relative!r} does not exist.")
    if candidate.exists():
        if kind == "file" and not candidate.is_file():
            raise PathRefused(400, f"{relative!r} is not a file.")
        if kind == "dir" and not candidate.is_dir():
            raise PathRefused(400, f"{relative!r} is not a folder.")
    return candidate


def to_contents_path(root: str | Path, path: Path) -> str:
    """The Jupyter contents path (relative, forward slashes) of a path inside root."""
    return Path(os.path.relpath(path, os.path.realpath(root))).as_posix()
