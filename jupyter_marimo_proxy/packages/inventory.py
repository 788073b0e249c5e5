"""What is installed: the user's packages in the venv apart from the base environment's,
and the set of versions marimo itself depends on (kept fixed by every install)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from importlib.metadata import Distribution, distributions
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from ..venv import base_site_dirs, venv_site_packages


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


def _requirements(dist: Distribution, environment: dict, *, with_extras: bool) -> Iterator[Requirement]:
    """The requirements of ``dist`` that this interpreter needs. ``with_extras``:
    a requirement of an extra counts too (the extra was asked for if its package
    is here); without it, only what a plain install pulls in. A marker that
    cannot be evaluated counts: an odd marker is still a dependency."""
    for line in dist.requires or []:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if requirement.marker:
            try:
                needed = requirement.marker.evaluate({**environment, "extra": ""})
            except Exception:  # noqa: BLE001 - see the docstring
                needed = True
            if not needed and not (with_extras and "extra" in str(requirement.marker)):
                continue
        yield requirement


def _required_by(dists: dict[str, Distribution]) -> dict[str, set[str]]:
    """name -> names of the distributions (among ``dists``) that require it."""
    environment = default_environment()
    parents: dict[str, set[str]] = {}
    for parent, dist in dists.items():
        for requirement in _requirements(dist, environment, with_extras=True):
            child = canonicalize_name(requirement.name)
            if child in dists and child != parent:
                parents.setdefault(child, set()).add(parent)
    return parents


def origins(venv_dir: Path, requested: list[str]) -> dict[str, dict]:
    """name -> how a package of the venv got there: ``requested`` (the user asked
    for it in the sidebar: the manifest lists it), ``dependency`` (something else
    here requires it; ``required_by`` names what), or ``marimo`` (neither: marimo's
    Install button, or another tool outside the sidebar)."""
    site = venv_site_packages(venv_dir)
    dists = _by_name([str(site)]) if site.is_dir() else {}
    asked = set()
    for spec in requested:
        try:
            asked.add(canonicalize_name(Requirement(spec).name))
        except InvalidRequirement:
            continue
    parents = _required_by(dists)
    found = {}
    for name in dists:
        origin = "requested" if name in asked else "dependency" if name in parents else "marimo"
        found[name] = {"origin": origin, "required_by": sorted(parents.get(name, ()))}
    return found


def list_packages(venv_dir: Path, base_python: str, requested: list[str] | None = None) -> list[dict]:
    user = user_packages(venv_dir)
    listing = [{"name": n, "version": v, "source": "user"} for n, v in sorted(user.items())]
    if requested is not None:
        how = origins(venv_dir, requested)
        for entry in listing:
            entry.update(how.get(entry["name"], {"origin": "marimo", "required_by": []}))
    listing += [
        {"name": n, "version": v, "source": "base"} for n, v in sorted(base_packages(base_python).items()) if n not in user
    ]
    return listing


def dependency_closure(root: str, installed: dict[str, Distribution]) -> dict[str, str]:
    """name -> version of ``root`` and everything it requires, as installed
    (optional extras are not pulled in)."""
    environment = default_environment()
    pinned: dict[str, str] = {}
    pending = [canonicalize_name(root)]
    while pending:
        name = pending.pop()
        dist = installed.get(name)
        if dist is None or name in pinned:
            continue
        pinned[name] = dist.version
        pending.extend(
            canonicalize_name(requirement.name)
            for requirement in _requirements(dist, environment, with_extras=False)
        )
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
