"""Files and folders only their owner can read, whatever the process's umask.

The state dir holds the per-launch secret and marimo's logs; on a machine
shared with other accounts (JupyterHub with local users) nothing in it may be
readable by them.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) owner-only; tighten it if it exists."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    # mkdir's mode is masked by the umask and ignored for an existing folder.
    os.chmod(path, PRIVATE_DIR)
    return path


def write_private_file(path: Path, text: str) -> None:
    """Replace ``path`` atomically with an owner-only file holding ``text``.

    The temporary name is unique, so two writers (two Jupyter servers of one
    user) never interleave; the rename never follows a symlink planted at ``path``.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, PRIVATE_FILE)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def open_private_append(path: Path):
    """A binary append handle on an owner-only file (a log)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, PRIVATE_FILE)
    os.fchmod(fd, PRIVATE_FILE)
    return os.fdopen(fd, "ab", buffering=0)


def readable_by_others(path: Path) -> bool:
    try:
        return bool(os.stat(path).st_mode & 0o077)
    except OSError:
        return False
