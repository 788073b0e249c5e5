"""Installing into and uninstalling from the user venv, as queued jobs, with the manifest kept."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .config import MarimoProxy
from .installer import IndexSettings, choose_installer, install_command, uninstall_command
from .jobs import Job, JobPlan, JobQueue
from .layout import StateLayout
from .manifest import load_manifest, save_manifest
from .packages import already_satisfied, base_versions, marimo_constraints, user_packages
from .venv import ensure_venv, venv_python

_ERROR_LINE = re.compile(r"^\s*(error|ERROR|×|  ×|Because|cause:|hint:)", re.MULTILINE)


def index_settings(settings: MarimoProxy) -> IndexSettings:
    return IndexSettings(
        index_url=settings.index_url or None,
        extra_index_urls=tuple(settings.extra_index_urls),
        find_links=tuple(settings.find_links),
        no_index=settings.no_index,
    )


def describe_changes(
    before: dict[str, str], after: dict[str, str], unchanged: str = "nothing changed (already satisfied)"
) -> str:
    added = [f"{n} {v}" for n, v in sorted(after.items()) if before.get(n) != v]
    removed = [n for n in sorted(before) if n not in after]
    parts = []
    if added:
        parts.append("installed " + ", ".join(added[:8]) + (f" and {len(added) - 8} more" if len(added) > 8 else ""))
    if removed:
        parts.append("removed " + ", ".join(removed[:8]) + (f" and {len(removed) - 8} more" if len(removed) > 8 else ""))
    return "; ".join(parts) if parts else unchanged


def explain_failure(job: Job, constraints: list[str]) -> str:
    text = "\n".join(job.log[1:])
    what = ", ".join(job.specs)
    pinned = {canonicalize_name(c.split("==")[0]): c for c in constraints}
    for name, constraint in pinned.items():
        # uv and pip say "<package> depend(s) on <name><specifier>" for a real conflict;
        # a pinned name merely mentioned (say, not found offline) is not one.
        if re.search(rf"depends? on {re.escape(name)}\s*[<>=!~]", text, re.IGNORECASE):
            return (
                f"Could not {job.kind} {what}: it needs a version of {name} other than the one marimo uses "
                f"({constraint}). Nothing was changed."
            )
    errors = [line.strip() for line in text.splitlines() if _ERROR_LINE.match(line)]
    detail = errors[0] if errors else (text.strip().splitlines() or ["no output"])[-1]
    return f"Could not {job.kind} {what} (exit code {job.exit_code}): {detail}"


def success_message(job: Job, rebuilt: bool, changes: str) -> str:
    if job.kind == "repair":
        venv = "Rebuilt the broken venv" if rebuilt else "The venv was healthy"
        packages = f"reinstalled {', '.join(job.specs)}" if job.specs else "the manifest lists no packages"
        return f"{venv}; {packages}."
    if job.kind == "bootstrap":
        return f"Installed the requirements in {job.specs[0]}: {changes}."
    verb = "Installed" if job.kind == "install" else "Uninstalled"
    return f"{verb} {', '.join(job.specs)}: {changes}."


class PackageService:
    """The venv's package operations; one queue per venv, so one change at a time."""

    def __init__(self, settings: MarimoProxy) -> None:
        self.settings = settings
        self.layout = StateLayout(Path(settings.state_dir))
        self.queue = JobQueue(self._plan)

    @property
    def python(self) -> str:
        return str(venv_python(self.layout.venv_dir))

    def install(self, requirements: list[Requirement]) -> Job:
        return self.queue.submit(Job(kind="install", specs=[str(r) for r in requirements]))

    def uninstall(self, names: list[str]) -> Job:
        return self.queue.submit(Job(kind="uninstall", specs=names))

    def repair(self, reason: str = "") -> Job:
        """Rebuild the venv if it is broken, then reinstall what the manifest records."""
        requested = load_manifest(self.layout.manifest).requested
        job = Job(kind="repair", specs=list(requested))
        if reason:
            job.log.append(reason)
        return self.queue.submit(job)

    def bootstrap(self, requirements_file: str) -> Job:
        """Install the configured requirements file in the background (server configuration,
        so the file may carry installer options). Not recorded as the user's requests."""
        return self.queue.submit(Job(kind="bootstrap", specs=[requirements_file]))

    def pending_repair(self) -> Job | None:
        return next((j for j in self.queue.all() if j.kind == "repair" and not j.state.finished), None)

    def installed_by_user(self) -> dict[str, str]:
        return user_packages(self.layout.venv_dir)

    async def _plan(self, job: Job) -> JobPlan:
        # A repair runs the venv's interpreter to judge it; an install only checks files.
        rebuilt = await asyncio.to_thread(self._prepare_venv, job.kind == "repair")
        if job.kind == "repair":
            job.log.append("The venv was broken: rebuilt it." if rebuilt else "The venv itself is healthy.")
        installer = choose_installer(self.settings.installer)
        before = await asyncio.to_thread(self.installed_by_user)
        constraints: list[str] = []
        constraints_file: Path | None = None
        command: list[str] | None = None
        if job.kind == "uninstall":
            command = uninstall_command(installer, self.python, job.specs)
        elif job.kind == "bootstrap":
            constraints = await asyncio.to_thread(marimo_constraints, self.settings.base_python)
            constraints_file = self.layout.run_dir / f"constraints-{job.id}.txt"
            constraints_file.write_text("\n".join(constraints) + "\n", encoding="utf-8")
            command = install_command(
                installer,
                self.python,
                [],
                index_settings(self.settings),
                str(constraints_file),
                requirement_files=tuple(job.specs),
            )
        elif job.specs and (to_install := await self._not_provided_by_base(job, before)):
            constraints = await asyncio.to_thread(marimo_constraints, self.settings.base_python)
            constraints_file = self.layout.run_dir / f"constraints-{job.id}.txt"
            constraints_file.write_text("\n".join(constraints) + "\n", encoding="utf-8")
            command = install_command(
                installer, self.python, to_install, index_settings(self.settings), str(constraints_file)
            )

        async def on_exit(finished: Job) -> None:
            if constraints_file is not None:
                constraints_file.unlink(missing_ok=True)
            after = await asyncio.to_thread(self.installed_by_user)
            if finished.exit_code == 0:
                # Even a cancel that came too late: what was installed is recorded.
                await asyncio.to_thread(self._record, finished, after)
                finished.message = success_message(finished, rebuilt, describe_changes(before, after))
            elif finished.cancel_requested:
                finished.message = f"Cancelled; {describe_changes(before, after, unchanged='nothing was changed')}."
            else:
                finished.message = explain_failure(finished, constraints)

        return JobPlan(command=command, env=self._installer_env(), on_exit=on_exit)

    async def _not_provided_by_base(self, job: Job, user: dict[str, str]) -> list[str]:
        """The job's specs minus those the base environment already satisfies (logged)."""
        base = await asyncio.to_thread(base_versions, self.settings.base_python)
        remaining = []
        for spec in job.specs:
            reason = already_satisfied(spec, base, user)
            if reason is None:
                remaining.append(spec)
            else:
                job.log.append(f"{spec}: {reason}; not installed.")
        return remaining

    def _prepare_venv(self, probe: bool = False) -> bool:
        self.layout.ensure()
        return ensure_venv(self.layout.venv_dir, self.settings.base_python, probe=probe) is not None

    def _installer_env(self) -> dict[str, str]:
        env = dict(os.environ)
        # The installer acts on the user venv, whatever venv Jupyter itself runs in.
        env["VIRTUAL_ENV"] = str(self.layout.venv_dir)
        env["PATH"] = os.pathsep.join([os.path.dirname(self.python), os.path.dirname(sys.executable), env.get("PATH", "")])
        env.pop("PYTHONPATH", None)
        env.setdefault("NO_COLOR", "1")
        return env

    def _record(self, job: Job, installed: dict[str, str]) -> None:
        manifest = load_manifest(self.layout.manifest)
        if job.kind == "install":
            manifest.add_requested(job.specs)
        elif job.kind == "uninstall":
            manifest.remove_requested(job.specs)
        manifest.installed = installed
        save_manifest(self.layout.manifest, manifest)
