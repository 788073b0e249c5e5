"""Paths from the browser, confined to the Jupyter root directory.

Reads and writes are judged on what they finally touch: a write never goes
through a symlink (it is refused, dangling or not) and lands in the root by a
rename inside a folder opened once; a read opens the file first and then checks
what was opened, so swapping a file for a symlink between check and use gains
nothing.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path, PurePosixPath

MAX_NAME_BYTES = 255


class PathRefused(Exception):
    """A path we will not touch; ``status`` is the HTTP answer (400, 403, 404, 409)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _parts(relative: object) -> tuple[str, ...]:
    if not isinstance(relative, str) or not relative.strip():
        raise PathRefused(400, "A path relative to the Jupyter root is required.")
    if "\x00" in relative or len(relative) > 4096:
        raise PathRefused(400, "The path is not valid.")
    pure = PurePosixPath(relative.replace("\\", "/"))
    if pure.is_absolute() or relative.startswith(("/", "\\", "~")) or (len(relative) > 1 and relative[1] == ":"):
        raise PathRefused(400, f"{relative!r} is absolute; paths are relative to the Jupyter root.")
    if any(part == ".." for part in pure.parts):
        raise PathRefused(400, f"{relative!r} leaves the Jupyter root.")
    return pure.parts


def _inside(real_root: Path, candidate: Path) -> bool:
    return candidate == real_root or real_root in candidate.parents


def refuse_hidden(root: str | Path, path: Path, allow_hidden: bool) -> None:
    """Jupyter's contents API hides dot files and folders unless allow_hidden is on; so do we."""
    if allow_hidden:
        return
    relative = Path(os.path.relpath(path, os.path.realpath(root)))
    if any(part.startswith(".") and part not in (".",) for part in relative.parts):
        raise PathRefused(403, f"{relative.as_posix()!r} is hidden; Jupyter is configured not to show hidden files.")


def resolve_in_root(
    root: str | Path, relative: object, *, kind: str = "file", must_exist: bool = True, allow_hidden: bool = True
) -> Path:
    """The real path of ``relative`` (a Jupyter contents path) inside ``root``.

    ``kind`` is "file", "dir" or "any". Absolute paths, ``..`` segments and
    symlinks that lead out of the root are refused, whatever the OS would do.
    """
    parts = _parts(relative)
    real_root = Path(os.path.realpath(root))
    candidate = Path(os.path.realpath(real_root.joinpath(*parts)))
    if not _inside(real_root, candidate):
        raise PathRefused(403, f"{relative!r} points outside the Jupyter root.")
    refuse_hidden(real_root, candidate, allow_hidden)
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


def check_target(root: str | Path, target: Path, allow_hidden: bool) -> None:
    """Whether ``target`` (in a folder already resolved inside the root) may be written."""
    if len(os.fsencode(target.name)) > MAX_NAME_BYTES:
        raise PathRefused(400, f"The name {target.name[:40]}… is longer than {MAX_NAME_BYTES} bytes.")
    real_root = Path(os.path.realpath(root))
    if not _inside(real_root, Path(os.path.realpath(target.parent))):
        raise PathRefused(403, "The target folder is outside the Jupyter root.")
    refuse_hidden(real_root, target, allow_hidden)
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise PathRefused(400, f"{target.name} is a symbolic link; it is never written through. Remove or rename it.")
    if not stat.S_ISREG(info.st_mode):
        raise PathRefused(400, f"{target.name} exists and is not a regular file.")


def write_in_root(root: str | Path, target: Path, data: bytes, *, overwrite: bool, allow_hidden: bool) -> None:
    """Write ``target`` inside the root without ever following a link at its place.

    The content goes to a new file in the target's folder (opened once, checked
    to be inside the root), then takes the target's name by a rename, which
    replaces a name and never writes through a link. Without ``overwrite`` a
    hard link claims the name only if it is free.
    """
    check_target(root, target, allow_hidden)
    real_root = Path(os.path.realpath(root))
    dir_fd = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        opened = Path(os.readlink(f"/proc/self/fd/{dir_fd}")) if os.path.isdir("/proc/self/fd") else target.parent
        if not _inside(real_root, opened):
            raise PathRefused(403, "The target folder is outside the Jupyter root.")
        temp = f".{target.name[:200]}.{secrets.token_hex(4)}.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666, dir_fd=dir_fd)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            if overwrite:
                check_target(root, target, allow_hidden)
                os.rename(temp, target.name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            else:
                try:
                    os.link(temp, target.name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
                except FileExistsError:
                    raise PathRefused(409, f"{target.name} already exists.") from None
        finally:
            try:
                os.unlink(temp, dir_fd=dir_fd)
            except FileNotFoundError:
                pass
    finally:
        os.close(dir_fd)


def read_in_root(root: str | Path, relative: object, max_bytes: int, *, allow_hidden: bool = True) -> tuple[Path, bytes]:
    """Open the file ``relative`` names, then check what was opened: a regular
    file inside the root. No check-then-open gap for a symlink to slip into."""
    parts = _parts(relative)
    real_root = Path(os.path.realpath(root))
    try:
        fd = os.open(real_root.joinpath(*parts), os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise PathRefused(404, f"{relative!r} does not exist.") from None
    except OSError as error:
        raise PathRefused(400, f"{relative!r} cannot be read: {error.strerror}.") from None
    try:
        opened = Path(os.readlink(f"/proc/self/fd/{fd}")) if os.path.isdir("/proc/self/fd") else None
        if opened is None:
            opened = Path(os.path.realpath(real_root.joinpath(*parts)))
        if not _inside(real_root, opened):
            raise PathRefused(403, f"{relative!r} points outside the Jupyter root.")
        refuse_hidden(real_root, opened, allow_hidden)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise PathRefused(400, f"{relative!r} is not a file.")
        if info.st_size > max_bytes:
            raise PathRefused(400, f"{opened.name} is larger than {max_bytes // 1024} KiB.")
        with os.fdopen(os.dup(fd), "rb") as handle:
            return opened, handle.read(max_bytes + 1)[:max_bytes]
    finally:
        os.close(fd)
