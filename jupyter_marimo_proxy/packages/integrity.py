"""Every distribution in the venv is complete or absent.

An installer that is cancelled, killed or runs out of disk leaves part of a
distribution behind: some of its files, perhaps a ``.dist-info`` that makes it
look installed (or, without a readable METADATA, one that blocks every later
install of it). This module finds such distributions, rolls an interrupted job
back to the distributions that were there before it, and checks that the venv,
the package list and the manifest agree.

Complete means: the ``.dist-info`` has METADATA and RECORD, and every file the
RECORD names exists (compiled ``.pyc`` files excepted; Python may drop them).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

from ..venv import venv_site_packages


@dataclass
class DistInfo:
    dist_info: Path
    name: str | None  # canonical
    version: str | None
    files: list[str]  # RECORD paths, relative to site-packages
    problem: str | None = None  # why it is incomplete; None when complete

    @property
    def complete(self) -> bool:
        return self.problem is None

    @property
    def label(self) -> str:
        return f"{self.name or self.dist_info.name} {self.version or ''}".strip()


def _metadata(dist_info: Path) -> tuple[str | None, str | None]:
    name = version = None
    try:
        with open(dist_info / "METADATA", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if not line.strip():
                    break
                key, _, value = line.partition(":")
                if key == "Name" and name is None:
                    name = value.strip()
                elif key == "Version" and version is None:
                    version = value.strip()
    except OSError:
        pass
    return name, version


def _from_dir_name(dist_info: Path) -> tuple[str | None, str | None]:
    stem = dist_info.name[: -len(".dist-info")]
    name, _, version = stem.partition("-")
    return (name or None), (version or None)


def read_record(dist_info: Path) -> list[str] | None:
    try:
        text = (dist_info / "RECORD").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    paths = []
    for line in text.splitlines():
        # "path,hash,size"; a path with a comma is quoted (csv), rare enough to
        # take the part before the last two fields.
        parts = line.rsplit(",", 2)
        if parts and parts[0]:
            paths.append(parts[0].strip('"'))
    return paths


def inspect(dist_info: Path) -> DistInfo:
    name, version = _metadata(dist_info)
    dir_name, dir_version = _from_dir_name(dist_info)
    has_metadata = name is not None and version is not None
    name = canonicalize_name(name or dir_name or dist_info.name)
    version = version or dir_version
    files = read_record(dist_info)
    info = DistInfo(dist_info, name, version, files or [])
    if not has_metadata:
        info.problem = "its METADATA is missing or unreadable"
    elif files is None:
        info.problem = "its RECORD (the list of its files) is missing"
    else:
        site = dist_info.parent
        missing = [p for p in files if not p.endswith(".pyc") and not os.path.lexists(site / p)]
        if missing:
            info.problem = f"{len(missing)} of {len(files)} files are missing"
    return info


def scan(site: Path) -> list[DistInfo]:
    """Every ``.dist-info`` in ``site`` (the venv's own site-packages)."""
    try:
        entries = sorted(site.iterdir())
    except OSError:
        return []
    return [inspect(entry) for entry in entries if entry.name.endswith(".dist-info") and entry.is_dir()]


def complete_versions(dists: list[DistInfo]) -> dict[str, str]:
    return {d.name: d.version or "" for d in dists if d.complete and d.name}


@dataclass
class Snapshot:
    """What the venv held before a job: enough to take the venv back to it."""

    versions: dict[str, str] = field(default_factory=dict)
    dist_infos: list[str] = field(default_factory=list)
    site_entries: list[str] = field(default_factory=list)
    bin_entries: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "Snapshot":
        return cls(
            versions=dict(data.get("versions", {})),
            dist_infos=list(data.get("dist_infos", [])),
            site_entries=list(data.get("site_entries", [])),
            bin_entries=list(data.get("bin_entries", [])),
        )


def _listdir(folder: Path) -> list[str]:
    try:
        return sorted(os.listdir(folder))
    except OSError:
        return []


def bin_dir(venv_dir: Path) -> Path:
    return venv_dir / ("Scripts" if os.name == "nt" else "bin")


def snapshot(venv_dir: Path) -> Snapshot:
    site = venv_site_packages(venv_dir)
    dists = scan(site)
    return Snapshot(
        versions=complete_versions(dists),
        dist_infos=[d.dist_info.name for d in dists if d.complete],
        site_entries=_listdir(site),
        bin_entries=_listdir(bin_dir(venv_dir)),
    )


def _inside(path: str, folder: Path) -> bool:
    root = os.path.normpath(folder)
    return os.path.normpath(path).startswith(root + os.sep)


def _remove_path(path: str) -> None:
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
    except FileNotFoundError:
        pass


def remove_distribution(venv_dir: Path, dist: DistInfo) -> None:
    """Delete the files its RECORD names (never outside the venv), the bytecode
    of its modules, the directories left empty, then the ``.dist-info``."""
    site = dist.dist_info.parent
    parents: set[str] = set()
    for relative in dist.files:
        path = os.path.normpath(site / relative)
        if not _inside(path, venv_dir) or path == os.path.normpath(dist.dist_info):
            continue
        _remove_path(path)
        parents.add(os.path.dirname(path))
        if path.endswith(".py"):
            folder, module = os.path.split(path)
            cache = os.path.join(folder, "__pycache__")
            for compiled in _listdir(Path(cache)):
                if compiled.startswith(module[:-3] + "."):
                    _remove_path(os.path.join(cache, compiled))
            parents.add(cache)
    shutil.rmtree(dist.dist_info, ignore_errors=True)
    # Deepest first, never site-packages itself nor anything outside it.
    for folder in sorted(parents, key=len, reverse=True):
        while _inside(folder, site):
            cache = os.path.join(folder, "__pycache__")
            if os.path.isdir(cache) and not _listdir(Path(cache)):
                os.rmdir(cache)
            try:
                os.rmdir(folder)
            except OSError:
                break
            folder = os.path.dirname(folder)


@dataclass
class Cleanup:
    """What a rollback or a clean-up removed."""

    incomplete: list[str] = field(default_factory=list)  # "name version (why)"
    rolled_back: list[str] = field(default_factory=list)  # complete ones the job had added
    leftovers: list[str] = field(default_factory=list)  # files no distribution owns
    after: dict[str, str] = field(default_factory=dict)  # name -> version left in the venv

    @property
    def changed(self) -> bool:
        return bool(self.incomplete or self.rolled_back or self.leftovers)

    def to_json(self) -> dict:
        return asdict(self)


def _owned_top_level(dists: list[DistInfo]) -> set[str]:
    owned = set()
    for dist in dists:
        owned.add(dist.dist_info.name)
        for relative in dist.files:
            owned.add(relative.replace("\\", "/").split("/", 1)[0])
    return owned


def _owned_bin(dists: list[DistInfo], site: Path, scripts: Path) -> set[str]:
    owned = set()
    for dist in dists:
        for relative in dist.files:
            path = os.path.normpath(site / relative)
            if os.path.dirname(path) == os.path.normpath(scripts):
                owned.add(os.path.basename(path))
    return owned


def rollback(venv_dir: Path, before: Snapshot | None) -> Cleanup:
    """Take the venv back to ``before``: remove incomplete distributions and the
    ones added since, then files in site-packages (and bin) that appeared since
    and that no remaining distribution owns. With ``before`` None, only remove
    incomplete distributions. A distribution that was there before but lost
    files (an upgrade cut short) is incomplete and is removed too."""
    site = venv_site_packages(venv_dir)
    result = Cleanup()
    kept_before = set(before.dist_infos) if before is not None else None
    # Removing one distribution may take files another one shares (an upgrade
    # half done): go on until nothing more is incomplete.
    for _ in range(10):
        dists = scan(site)
        doomed = [d for d in dists if not d.complete]
        if kept_before is not None:
            doomed += [d for d in dists if d.complete and d.dist_info.name not in kept_before]
        if not doomed:
            break
        for dist in doomed:
            remove_distribution(venv_dir, dist)
            if dist.complete:
                result.rolled_back.append(dist.label)
            else:
                result.incomplete.append(f"{dist.label} ({dist.problem})")
    remaining = scan(site)
    if before is not None:
        owned = _owned_top_level(remaining)
        for entry in _listdir(site):
            if entry not in before.site_entries and entry not in owned and entry != "__pycache__":
                _remove_path(str(site / entry))
                result.leftovers.append(entry)
        scripts = bin_dir(venv_dir)
        owned_scripts = _owned_bin(remaining, site, scripts)
        for entry in _listdir(scripts):
            if entry not in before.bin_entries and entry not in owned_scripts:
                _remove_path(str(scripts / entry))
                result.leftovers.append(f"bin/{entry}")
    result.after = complete_versions(remaining)
    return result


# -- the journal of the job in progress ------------------------------------


def read_journal(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        # Cut short while being written: the job never started its installer,
        # but clean up as if it had (no before-set: incomplete ones only).
        return {"job": "unknown", "before": None}
    return data if isinstance(data, dict) else {"job": "unknown", "before": None}


def write_journal(path: Path, data: dict, durable: bool = True) -> None:
    """Replace the journal atomically; ``durable`` also waits for the disk (the
    first write of a job, which must survive a power cut for the roll-back)."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# -- the consistency check ---------------------------------------------------


@dataclass
class IntegrityReport:
    incomplete: list[str] = field(default_factory=list)
    # name -> (manifest's version or None, venv's version or None)
    disagreements: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    interrupted_job: dict | None = None
    failed: dict[str, str] = field(default_factory=dict)
    busy: bool = False  # a job was running: not checked

    @property
    def consistent(self) -> bool:
        return not (self.incomplete or self.disagreements or self.interrupted_job)

    def problems(self) -> list[str]:
        """One sentence per problem, each saying what to do."""
        found = []
        if self.interrupted_job:
            job = self.interrupted_job
            found.append(
                f"A package job ({job.get('kind', 'install')} {' '.join(job.get('specs', []))}".rstrip()
                + ") was interrupted and not yet rolled back: start Jupyter (it rolls it back at start) "
                "or run any install or Repair from the sidebar."
            )
        for dist in self.incomplete:
            found.append(
                f"The package {dist} is half-installed in the venv: start Jupyter or run any install or "
                "Repair from the sidebar (they remove it), then install it again."
            )
        for name, (recorded, present) in sorted(self.disagreements.items()):
            if present is None:
                found.append(
                    f"The manifest records {name} {recorded} as installed but the venv does not have it: "
                    "use Repair in the sidebar to reinstall it."
                )
            elif recorded is None:
                found.append(
                    f"{name} {present} is in the venv but not in the manifest (installed outside the sidebar?): "
                    "install it from the sidebar so a rebuilt venv gets it back."
                )
            else:
                found.append(
                    f"The manifest records {name} {recorded} but the venv has {present}: "
                    "install the version you want from the sidebar."
                )
        for name, why in sorted(self.failed.items()):
            found.append(f"The last repair could not reinstall {name}: {why} Repair tries again; uninstall it to stop.")
        return found

    def to_json(self) -> dict:
        return {
            "consistent": self.consistent,
            "incomplete": self.incomplete,
            "disagreements": {k: list(v) for k, v in self.disagreements.items()},
            "interrupted_job": self.interrupted_job,
            "failed": self.failed,
            "busy": self.busy,
            "problems": self.problems(),
        }


def lock_is_held(path: Path) -> bool:
    """Does a job of some Jupyter server hold the venv's jobs lock right now?"""
    try:
        handle = open(path, "a")
    except OSError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def check(
    venv_dir: Path, manifest_path: Path, journal_path: Path | None = None, lock_path: Path | None = None
) -> IntegrityReport:
    """Is every distribution complete, and do the venv and the manifest agree?

    With ``lock_path``: while a job holds it, its installer is at work and its
    half-written distribution is no fault; the report then says only that.
    """
    from .manifest import load_manifest

    report = IntegrityReport()
    if lock_path is not None and lock_is_held(lock_path):
        report.busy = True
        return report
    dists = scan(venv_site_packages(venv_dir))
    report.incomplete = [f"{d.label} ({d.problem})" for d in dists if not d.complete]
    present = complete_versions(dists)
    manifest = load_manifest(manifest_path)
    report.failed = dict(manifest.failed)
    if manifest_path.exists() or present:
        recorded = manifest.installed
        for name in sorted(set(recorded) | set(present)):
            if recorded.get(name) != present.get(name):
                report.disagreements[name] = (recorded.get(name), present.get(name))
    if journal_path is not None:
        report.interrupted_job = read_journal(journal_path)
    return report
