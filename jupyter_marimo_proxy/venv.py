"""The user venv: created offline in about a second, reused on every launch.

The venv is built on Jupyter's own interpreter and sees Jupyter's environment
through a ``.pth`` file, so marimo and its dependencies need no download. The
user's own packages go into the venv itself, ahead of Jupyter's on ``sys.path``.
marimo run with this venv's interpreter sees ``sys.prefix != sys.base_prefix``,
which is what makes it offer its Install button.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

# Written last during creation: a venv dir without it is a half-built one.
READY_MARKER = ".jupyter-marimo-proxy-ready"
BASE_ENV_PTH = "_jupyter_marimo_proxy_base_env.pth"

# Printed by the venv's interpreter as one JSON line; cheap (no marimo import).
_PROBE_SOURCE = """
import importlib.metadata as md, json, platform, sys
try:
    marimo_version = md.version("marimo")
except md.PackageNotFoundError:
    marimo_version = None
print(json.dumps({
    "prefix": sys.prefix,
    "base_prefix": sys.base_prefix,
    "python_version": platform.python_version(),
    "marimo_version": marimo_version,
}))
"""


def venv_python(venv_dir: Path) -> Path:
    if os.name == "nt":
        return venv_dir / "Scripts" / "python.exe"
    return venv_dir / "bin" / "python"


def venv_site_packages(venv_dir: Path) -> Path:
    if os.name == "nt":
        return venv_dir / "Lib" / "site-packages"
    version = read_pyvenv_cfg(venv_dir).get("version", "")
    major_minor = ".".join(version.split(".")[:2]) or f"{sys.version_info[0]}.{sys.version_info[1]}"
    return venv_dir / "lib" / f"python{major_minor}" / "site-packages"


def read_pyvenv_cfg(venv_dir: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    try:
        text = (venv_dir / "pyvenv.cfg").read_text(encoding="utf-8")
    except OSError:
        return values
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip()
    # Python 3.11 writes "version", later ones "version_info"; read either.
    if "version" not in values and "version_info" in values:
        values["version"] = values["version_info"]
    return values


@dataclass
class VenvReport:
    """What the status API and the launcher need to know about the venv."""

    path: str
    exists: bool
    healthy: bool
    python_version: str | None = None
    marimo_version: str | None = None
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


def read_marker(venv_dir: Path) -> dict | None:
    """The ready marker's record of the Jupyter environment the venv was built on.

    Venvs made by earlier versions hold only the base interpreter's path.
    """
    try:
        text = (venv_dir / READY_MARKER).read_text(encoding="utf-8")
    except OSError:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return {"base_python": text.strip()}
    return data if isinstance(data, dict) else {"base_python": text.strip()}


def _write_marker(venv_dir: Path, record: dict) -> None:
    tmp = venv_dir / (READY_MARKER + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, venv_dir / READY_MARKER)


def environment_change(venv_dir: Path, base_python: str) -> str | None:
    """Why the venv belongs to another Jupyter environment than ``base_python``'s,
    or None. Another interpreter, or other site-packages directories, means the
    venv's ``.pth`` still points marimo at the old environment's packages."""
    record = read_marker(venv_dir)
    if not record or not record.get("base_python"):
        return None
    old_python = record["base_python"]
    try:
        same_python = os.path.realpath(old_python) == os.path.realpath(base_python)
        dirs = base_site_dirs(base_python)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None  # Jupyter's own interpreter not answering is not the venv's fault
    old_dirs = record.get("site_dirs")
    if same_python and (old_dirs is None or list(old_dirs) == dirs):
        return None
    where = old_python
    if old_python == base_python:  # the same interpreter, other site-packages
        where = f"{old_python} with {os.pathsep.join(old_dirs) or 'no site-packages'}"
    return f"The venv was built on another Jupyter environment ({where}); it is rebuilt on the next start of marimo."


def rebuild_to_report(venv_dir: Path) -> list[str] | None:
    """Why the venv was last rebuilt, while no repair has reinstalled the
    manifest since; None otherwise."""
    record = read_marker(venv_dir) or {}
    if record.get("rebuilt_because") is not None and not record.get("repaired"):
        return list(record["rebuilt_because"])
    return None


def mark_repaired(venv_dir: Path) -> None:
    record = read_marker(venv_dir)
    if record and record.get("rebuilt_because") is not None and not record.get("repaired"):
        _write_marker(venv_dir, {**record, "repaired": True})


def quick_check(venv_dir: Path, expected_version: str | None = None, base_python: str | None = None) -> VenvReport:
    """Checks that need no subprocess: files in place, creation finished, and
    (given ``expected_version``, "3.11") still built for that Python and (given
    ``base_python``) on that Jupyter environment."""
    report = VenvReport(path=str(venv_dir), exists=venv_dir.is_dir(), healthy=False)
    if not report.exists:
        report.problems.append("The venv has not been created yet; it is created when marimo first opens.")
        return report
    cfg = read_pyvenv_cfg(venv_dir)
    report.python_version = cfg.get("version")
    if not cfg.get("home"):
        report.problems.append("pyvenv.cfg is missing or damaged.")
    if not venv_python(venv_dir).exists():
        report.problems.append(f"The venv's interpreter {venv_python(venv_dir)} is missing or points nowhere.")
    if not (venv_dir / READY_MARKER).exists():
        report.problems.append("The venv was not completely created.")
    built_for = ".".join((report.python_version or "").split(".")[:2])
    if expected_version and built_for and built_for != expected_version:
        report.problems.append(
            f"The venv was built for Python {built_for}, but Jupyter now runs Python {expected_version}."
        )
    elif base_python and not report.problems:
        moved = environment_change(venv_dir, base_python)
        if moved:
            report.problems.append(moved)
    report.healthy = not report.problems
    return report


def probe_command(venv_dir: Path) -> list[str]:
    # -I: ignore PYTHON* variables and the cwd, so the probe sees the venv as marimo will.
    return [str(venv_python(venv_dir)), "-I", "-c", _PROBE_SOURCE]


def apply_probe(report: VenvReport, returncode: int, stdout: str, stderr: str) -> VenvReport:
    """Fold the interpreter probe's answer into a quick-check report."""
    if returncode != 0:
        tail = (stderr or "").strip().splitlines()[-1:] or ["no output"]
        report.problems.append(f"The venv's interpreter does not run: {tail[0]}")
    else:
        facts = json.loads(stdout.strip().splitlines()[-1])
        report.python_version = facts["python_version"]
        report.marimo_version = facts["marimo_version"]
        if facts["prefix"] == facts["base_prefix"]:
            report.problems.append("The interpreter does not run as a venv (sys.prefix == sys.base_prefix).")
        if facts["marimo_version"] is None:
            report.problems.append("marimo is not importable from the venv.")
    report.healthy = not report.problems
    return report


# The last healthy probe's answer and what it depended on (see probe_inputs).
PROBE_RECORD = ".jupyter-marimo-proxy-probe.json"


def probe_inputs(venv_dir: Path, base_python: str | None) -> list | None:
    """What the probe's answer depends on: the venv's config, its interpreter (the
    file the link reaches), its site-packages and the site dirs of the Jupyter
    environment it sees (where marimo is). Each changes its stat when
    reconfigured, replaced, or a package comes or goes. None when one is missing."""
    paths = [venv_dir / "pyvenv.cfg", venv_python(venv_dir), venv_site_packages(venv_dir)]
    paths += [Path(d) for d in (base_site_dirs(base_python) if base_python else [])]
    inputs = []
    for path in paths:
        try:
            info = os.stat(path)
        except OSError:
            return None
        inputs.append([str(path), info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns])
    return inputs


def full_check(
    venv_dir: Path, expected_version: str | None = None, base_python: str | None = None, reuse_probe: bool = False
) -> VenvReport:
    """``quick_check`` plus a run of the venv's interpreter (~60 ms: it lists the
    installed distributions). With ``reuse_probe`` (each launch of marimo), a
    healthy answer is reused while none of its inputs has changed."""
    report = quick_check(venv_dir, expected_version, base_python)
    if report.problems:
        return report
    inputs = probe_inputs(venv_dir, base_python) if reuse_probe and base_python else None
    record_path = venv_dir / PROBE_RECORD
    if inputs is not None:
        try:
            record = json.loads(record_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = None
        if isinstance(record, dict) and record.get("inputs") == inputs and isinstance(record.get("answer"), str):
            return apply_probe(report, 0, record["answer"], "")
    proc = subprocess.run(probe_command(venv_dir), capture_output=True, text=True, timeout=60)
    report = apply_probe(report, proc.returncode, proc.stdout, proc.stderr)
    if inputs is not None and report.healthy:
        answer = proc.stdout.strip().splitlines()[-1]
        try:
            tmp = record_path.with_name(f"{record_path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"inputs": inputs, "answer": answer}), encoding="utf-8")
            os.replace(tmp, record_path)
        except OSError:
            pass  # only the next launch's 60 ms
    return report


@lru_cache(maxsize=4)
def base_site_dirs(base_python: str) -> list[str]:
    """The site-packages directories Jupyter's interpreter imports from, in order."""
    code = (
        "import json, sys; print(json.dumps([p for p in sys.path "
        "if p.rstrip('/\\\\').endswith(('site-packages', 'dist-packages'))]))"
    )
    # Compare the paths as given: a venv's python resolves to the base interpreter.
    if base_python == sys.executable:
        dirs = [p for p in sys.path if p.rstrip("/\\").endswith(("site-packages", "dist-packages"))]
    else:
        # Dropping sys.path[0] (the working directory) first: a json.py there must not answer.
        out = subprocess.run(
            [base_python, "-c", "import sys; sys.path.pop(0); " + code], capture_output=True, text=True, check=True
        )
        dirs = json.loads(out.stdout)
    seen: list[str] = []
    for entry in dirs:
        if os.path.isdir(entry) and entry not in seen:
            seen.append(entry)
    return seen


def create_venv(venv_dir: Path, base_python: str, replaced: VenvReport | None = None) -> None:
    """Create the venv without pip and without network, then link Jupyter's environment.

    Building on a venv interpreter needs care: ``--system-site-packages`` would
    expose the *base* interpreter's packages, not the Jupyter venv's. So the
    Jupyter environment's site dirs are added explicitly, with ``site.addsitedir``
    so their own ``.pth`` files (editable installs, for one) are honoured too.
    """
    if venv_dir.exists():
        shutil.rmtree(venv_dir)
    venv_dir.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        # -I: a venv.py in the working directory (often the Jupyter root) must not run instead.
        [base_python, "-I", "-m", "venv", "--without-pip", str(venv_dir)],
        check=True,
        capture_output=True,
        text=True,
    )
    lines = [f"import site; site.addsitedir({d!r})" for d in base_site_dirs(base_python)]
    site_packages = venv_site_packages(venv_dir)
    site_packages.mkdir(parents=True, exist_ok=True)
    (site_packages / BASE_ENV_PTH).write_text("\n".join(lines) + "\n", encoding="utf-8")
    # Last: the venv is complete, and this is the Jupyter environment it is built on.
    record = {"base_python": base_python, "site_dirs": base_site_dirs(base_python), "created": time.time()}
    if replaced is not None and replaced.exists:
        # The next repair says it rebuilt the venv, and why, whoever rebuilt it.
        record.update(rebuilt_because=list(replaced.problems), repaired=False)
    _write_marker(venv_dir, record)


@lru_cache(maxsize=4)
def python_version_of(base_python: str) -> str:
    """"3.11" for the interpreter the venv is built on."""
    if base_python == sys.executable:
        return f"{sys.version_info[0]}.{sys.version_info[1]}"
    out = subprocess.run(
        [base_python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True
    )
    return out.stdout.strip()


@contextmanager
def venv_lock(venv_dir: Path):
    """One creator at a time: the launcher and an install job may both want the venv."""
    venv_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(venv_dir.parent / "venv.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_venv(venv_dir: Path, base_python: str, *, probe: bool = False, reuse_probe: bool = False) -> VenvReport | None:
    """Create (or rebuild) the venv unless a healthy one is there.

    Returns None when the venv was fine, else the report on what was there
    before it was (re)built. ``probe`` also runs the venv's interpreter (marimo
    importable, a real venv); without it only files are checked, which is
    enough before an install.
    """
    with venv_lock(venv_dir):
        version = python_version_of(base_python)
        if probe:
            before = full_check(venv_dir, version, base_python, reuse_probe=reuse_probe)
        else:
            before = quick_check(venv_dir, version, base_python)
        if before.healthy:
            return None
        create_venv(venv_dir, base_python, replaced=before)
        return before
