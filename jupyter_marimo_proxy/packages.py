"""What is installed: the user's packages in the venv apart from the base environment's,
and the set of versions marimo itself depends on (kept fixed by every install)."""

from __future__ import annotations

import os
from importlib.metadata import Distribution, distributions
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from .venv import base_site_dirs, venv_site_packages


def _by_name(paths: list[str]) -> dict[str, Distribution]:
    found: dict[str, Distribution] = {}
    for dist in distributions(path=paths):
        name = dist.metadata["Name"]
        if not name:
            continue
        # First one wins, as on sys.path.
        found.setdefault(canonicalize_name(name), dist)
    return found


def user_packages(venv_dir: Path) -> dict[str, str]:
    """name -> version of what is installed in the venv itself."""
    site = venv_site_packages(venv_dir)
    if not site.is_dir():
        return {}
    return {name: dist.version for name, dist in _by_name([str(site)]).items()}


def base_packages(base_python: str) -> dict[str, str]:
    return {name: dist.version for name, dist in _by_name(base_site_dirs(base_python)).items()}


def list_packages(venv_dir: Path, base_python: str) -> list[dict]:
    user = user_packages(venv_dir)
    listing = [{"name": n, "version": v, "source": "user"} for n, v in sorted(user.items())]
    listing += [
        {"name": n, "version": v, "source": "base"} for n, v in sorted(base_packages(base_python).items()) if n not in user
    ]
    return listing


def dependency_closure(root: str, installed: dict[str, Distribution]) -> dict[str, str]:
    """name -> version of ``root`` and everything it requires, as installed."""
    environment = default_environment()
    pinned: dict[str, str] = {}
    pending = [(canonicalize_name(root), frozenset())]
    while pending:
        name, extras = pending.pop()
        dist = installed.get(name)
        if dist is None or name in pinned:
            continue
        pinned[name] = dist.version
        for line in dist.requires or []:
            try:
                requirement = Requirement(line)
            except InvalidRequirement:
                continue
            if requirement.marker:
                # Only what this interpreter actually needs: optional extras are not pulled in.
                if not requirement.marker.evaluate({**environment, "extra": ""}):
                    continue
            pending.append((canonicalize_name(requirement.name), frozenset(requirement.extras)))
    return pinned


_constraints_cache: dict[tuple, list[str]] = {}
_base_cache: dict[tuple, dict[str, str]] = {}


def _base_key(base_python: str, dirs: list[str]) -> tuple:
    # Adding or removing a package changes its site directory's modification time.
    return (base_python, tuple((d, os.stat(d).st_mtime_ns) for d in dirs))


def base_versions(base_python: str) -> dict[str, str]:
    """name -> version in the base environment, cached until it changes."""
    dirs = base_site_dirs(base_python)
    key = _base_key(base_python, dirs)
    if key not in _base_cache:
        _base_cache.clear()
        _base_cache[key] = {name: dist.version for name, dist in _by_name(dirs).items()}
    return _base_cache[key]


def already_satisfied(spec: str, base: dict[str, str], user: dict[str, str]) -> str | None:
    """Why a top-level spec needs no install here, or None when it does.

    uv does not see the base environment (pip does), so without this a
    requirement such as ``marimo`` would be downloaded again into the venv,
    or fail offline. Specs with extras are installed: their extra
    dependencies may be missing.
    """
    requirement = Requirement(spec)
    if requirement.marker and not requirement.marker.evaluate(default_environment()):
        return "not needed on this Python"
    name = canonicalize_name(requirement.name)
    if name in user or name not in base or requirement.extras:
        return None
    if requirement.specifier.contains(base[name], prereleases=True):
        return f"provided by the base environment ({base[name]})"
    return None


def marimo_constraints(base_python: str) -> list[str]:
    """``name==version`` lines that keep marimo and its dependencies as they are.

    Reading every distribution's metadata takes tens of milliseconds, more than
    uv needs for a whole small install; the result only changes when a package
    is added to or removed from the base environment, which changes the
    modification time of its site directory.
    """
    dirs = base_site_dirs(base_python)
    key = _base_key(base_python, dirs)
    if key not in _constraints_cache:
        installed = _by_name(dirs)
        _constraints_cache.clear()
        _constraints_cache[key] = [
            f"{name}=={version}" for name, version in sorted(dependency_closure("marimo", installed).items())
        ]
    return _constraints_cache[key]
