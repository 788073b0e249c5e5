"""``jupyter marimo-proxy doctor``: what is installed, what is enabled, what is broken,
and for each problem one line saying what to do. Exit code 1 when something is wrong."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, distributions, version
from pathlib import Path

from jupyter_core.paths import jupyter_config_path, jupyter_path

from .config import MarimoProxy
from .packages.installer import choose_installer
from .layout import StateLayout
from .private_files import readable_by_others
from .status import state_dir_problem
from .venv import full_check, python_version_of

LABEXTENSION = "jupyter-marimo-proxy"
# The name jupyter-marimo-proxy on the package index belongs to another
# project until this one is released there: never tell users to fetch it.
REINSTALL_HINT = "pip install --force-reinstall <the jupyter_marimo_proxy wheel you built>; see the README's Install"
PROXY_GROUP = "jupyter_serverproxy_servers"


def marimo_proxy_entry_points() -> list[tuple[str, str]]:
    """(distribution, target) of every installed 'marimo' jupyter-server-proxy entry point.

    Read from each distribution's metadata, which works on every Python we
    support (``entry_points(group=...)`` needs 3.10) and names the package."""
    found = []
    for dist in distributions():
        try:
            points = dist.entry_points
        except Exception:  # a broken distribution must not stop the doctor
            continue
        for point in points:
            if point.group == PROXY_GROUP and point.name == "marimo":
                found.append((dist.metadata.get("Name") or "an unnamed package", point.value))
    return sorted(set(found))


@dataclass
class Report:
    facts: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def fact(self, name: str, value: object) -> None:
        self.facts.append((name, str(value)))

    def problem(self, what_to_do: str) -> None:
        self.problems.append(what_to_do)


def package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def server_extension_enabled(module: str) -> bool | None:
    """The effective ``jpserver_extensions`` value: the first config dir that sets it wins."""
    for directory in jupyter_config_path():
        folder = Path(directory)
        files = [folder / "jupyter_server_config.json"] + sorted((folder / "jupyter_server_config.d").glob("*.json"))
        for path in files:
            try:
                settings = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            value = settings.get("ServerApp", {}).get("jpserver_extensions", {}).get(module)
            if value is not None:
                return bool(value)
    return None


def labextension_state() -> tuple[bool, bool]:
    """(installed, disabled) for our prebuilt labextension."""
    installed = any((Path(d) / LABEXTENSION / "package.json").exists() for d in jupyter_path("labextensions"))
    disabled = False
    for directory in jupyter_config_path():
        try:
            page_config = json.loads((Path(directory) / "labconfig" / "page_config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        listed = page_config.get("disabledExtensions", {})
        if (isinstance(listed, dict) and listed.get(LABEXTENSION)) or (
            isinstance(listed, list) and LABEXTENSION in listed
        ):
            disabled = True
    return installed, disabled


def diagnose(settings: MarimoProxy | None = None) -> Report:
    settings = settings or MarimoProxy()
    report = Report()
    report.fact("python", sys.version.split()[0] + f" ({sys.executable})")
    for name in ("jupyter-marimo-proxy", "jupyterlab", "jupyter_server", "jupyter-server-proxy", "marimo", "uv"):
        report.fact(name, package_version(name) or "not installed")
    if package_version("jupyter-server-proxy") is None:
        report.problem("jupyter-server-proxy is missing: pip install jupyter-server-proxy")

    for module in ("jupyter_marimo_proxy", "jupyter_server_proxy"):
        enabled = server_extension_enabled(module)
        report.fact(f"server extension {module}", {True: "enabled", False: "disabled", None: "not configured"}[enabled])
        if not enabled:
            report.problem(f"The server extension {module} is not enabled: jupyter server extension enable {module}")

    installed, disabled = labextension_state()
    report.fact("labextension", "disabled" if disabled else ("installed" if installed else "missing"))
    if not installed:
        report.problem(f"The JupyterLab extension is missing: reinstall this project ({REINSTALL_HINT})")
    elif disabled:
        report.problem(f"The JupyterLab extension is disabled: jupyter labextension enable {LABEXTENSION}")

    points = marimo_proxy_entry_points()
    ours = [(dist, value) for dist, value in points if value.startswith("jupyter_marimo_proxy.")]
    others = [(dist, value) for dist, value in points if not value.startswith("jupyter_marimo_proxy.")]
    report.fact("proxy entry point", ours[0][1] if ours else "missing")
    if not ours:
        report.problem(f"The 'marimo' proxy entry point is missing: reinstall this project ({REINSTALL_HINT})")
    for dist, value in others:
        # jupyter-server-proxy keeps whichever 'marimo' it loads first: the
        # route may be the other package's, without its token or our venv.
        report.problem(
            f"{dist} also registers the jupyter-server-proxy route 'marimo' ({value}); only one of the two "
            f"serves {{base_url}}marimo/. Uninstall it (pip uninstall {dist}) and restart Jupyter."
        )

    layout = StateLayout(Path(settings.state_dir))
    report.fact("state dir", layout.root)
    unwritable = state_dir_problem(layout.root)
    if unwritable:
        report.problem(unwritable)
    for folder in (layout.root, layout.run_dir, layout.log_dir, layout.venv_dir):
        if readable_by_others(folder):
            # Launch secrets and marimo's logs live here; on a shared machine
            # other accounts must not read them.
            report.problem(f"{folder} can be read by other accounts on this machine: chmod -R go-rwx {layout.root}")
            break

    venv = full_check(layout.venv_dir, python_version_of(settings.base_python), settings.base_python)
    condition = "healthy" if venv.healthy else ("not healthy" if venv.exists else "not created yet; marimo's first open creates it")
    report.fact("venv", f"{venv.path} ({condition})")
    report.fact("venv python", venv.python_version or "-")
    report.fact("venv marimo", venv.marimo_version or "-")
    if venv.exists and not venv.healthy:
        for problem in venv.problems:
            report.problem(f"{problem} Open marimo (it rebuilds the venv) or use Repair in the sidebar.")

    if venv.exists:
        from .packages.integrity import check

        packages = check(layout.venv_dir, layout.manifest, layout.job_journal, layout.jobs_lock)
        report.fact("venv packages", "a package job is running" if packages.busy else ("consistent" if packages.consistent and not packages.failed else "not consistent"))
        for problem in packages.problems():
            report.problem(problem)

    installer = choose_installer(settings.installer)
    report.fact("installer", f"{installer.name} {installer.version or ''} {installer.path or ''}".strip())
    return report


def print_report(report: Report) -> None:
    width = max(len(name) for name, _ in report.facts)
    for name, value in report.facts:
        print(f"{name.ljust(width)}  {value}")
    print()
    if report.problems:
        print(f"{len(report.problems)} problem(s):")
        for problem in report.problems:
            print(f"  - {problem}")
    else:
        print("No problems found.")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] != ["doctor"] or len(args) > 1:
        print("usage: jupyter marimo-proxy doctor   (or: python -m jupyter_marimo_proxy doctor)", file=sys.stderr)
        return 2
    report = diagnose()
    print_report(report)
    return 1 if report.problems else 0
