"""Installing into and uninstalling from the user venv, as queued jobs, with the manifest kept."""

from __future__ import annotations

import asyncio
import errno
import fcntl
import logging
import os
import re
import signal
import sys
import time
from contextlib import asynccontextmanager
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from ..config import MarimoProxy
from ..layout import StateLayout
from ..processes import start_ticks
from ..venv import ensure_venv, mark_repaired, rebuild_to_report, venv_python
from .installer import IndexSettings, choose_installer, install_command, uninstall_command
from .integrity import Cleanup, Snapshot, read_journal, rollback, snapshot, write_journal
from .inventory import already_satisfied, base_versions, marimo_constraints, user_packages
from .jobs import Job, JobFailed, JobPlan, JobQueue, JobState, stop_group_now
from .manifest import Manifest, load_manifest, update_manifest

log = logging.getLogger(__name__)
LOCK_POLL_SECONDS = 0.1
_NO_SPACE = re.compile(r"No space left on device|os error 28|Errno 28|ENOSPC", re.IGNORECASE)

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


NOTHING_CHANGED = ": nothing was changed."

_OPERATORS = {">=": "≥ ", "<=": "≤ ", "!=": "≠ ", "==": "", "~=": "~= ", "===": "", ">": "> ", "<": "< "}


def _readable_specifier(text: str) -> str:
    """``>=1.26,<2`` -> ``≥ 1.26, < 2``: how people write versions."""
    parts = []
    for part in text.split(","):
        part = part.strip()
        match = re.match(r"(===|==|>=|<=|!=|~=|>|<)\s*(.*)", part)
        parts.append(_OPERATORS[match.group(1)] + match.group(2) if match else part)
    return ", ".join(p for p in parts if p)


def _installer_text(job: Job) -> str:
    """The installer's output, without our own lines (the command, notes), one line
    per sentence part: uv wraps its explanations over several indented lines."""
    return "\n".join(line for line in job.log if not line.startswith("$ "))


def _conflict_with_marimo(text: str, constraints: list[str]) -> str | None:
    pinned = {canonicalize_name(c.split("==")[0]): c.split("==", 1)[-1] for c in constraints}
    flat = re.sub(r"\s*\n\s*", " ", text)
    for name, version in pinned.items():
        # uv and pip say "<package> depend(s) on <name><specifier>" for a real conflict;
        # a pinned name merely mentioned (say, not found offline) is not one.
        pattern = rf"(?:all versions of (?P<all>[\w.-]+)|(?P<who>[\w.-]+)(?:==| )(?P<ver>[\w.+!-]+)) depends? on {re.escape(name)}\s*(?P<spec>[<>=!~][^ ,;]*(?:,[<>=!~][^ ,;]*)*)"
        match = re.search(pattern, flat, re.IGNORECASE)
        if match is None:
            if re.search(rf"depends? on {re.escape(name)}\s*[<>=!~]", flat, re.IGNORECASE):
                return f"it needs a version of {name} other than the one marimo uses ({name} {version})"
            continue
        who = match.group("all") or f"{match.group('who')} {match.group('ver')}"
        needs = _readable_specifier(match.group("spec"))
        return f"{who} needs {name} {needs}; marimo needs {name} {version}"
    return None


def _not_found(text: str) -> str | None:
    flat = re.sub(r"\s*\n\s*", " ", text)
    match = re.search(r"Because ([\w.-]+) was not found in the package registry", flat)
    if match:
        return f"{match.group(1)} is not on the package index"
    match = re.search(r"Because ([\w.-]+) was not found in the provided package locations", flat)
    if match:
        return f"{match.group(1)} is not in the configured package locations (no index is used)"
    match = re.search(r"Because there (?:is|are) no versions? of ([\w.-]+?)\s*([<>=!~][^ ]*?)(?: and|,|$)", flat)
    if match:
        return f"no version of {match.group(1)} {_readable_specifier(match.group(2))} is on the package index"
    match = re.search(r"Because only ([\w.-]+?)([<>=!~][^ ]*) is available and you require ([\w.-]+?)([<>=!~][^ ,]*)", flat)
    if match:
        return (
            f"no version of {match.group(3)} {_readable_specifier(match.group(4))} is on the package index "
            f"(only {_readable_specifier(match.group(2))})"
        )
    match = re.search(r"No matching distribution found for ([\w.-]+)([^ ]*)", flat)
    if match:
        versions = re.search(r"\(from versions: ([^)]*)\)", flat)
        if match.group(2) and versions and versions.group(1).strip() != "none":
            return f"no version of {match.group(1)} {_readable_specifier(match.group(2))} is on the package index"
        return f"{match.group(1)} is not on the package index"
    return None


def failure_reason(job: Job, constraints: list[str]) -> str:
    """Why an installer run failed, in plain words, as a clause (no full stop)."""
    text = _installer_text(job)
    reason = _conflict_with_marimo(text, constraints) or _not_found(text)
    if reason:
        return reason
    because = re.search(r"Because (.*?)(?:, we can conclude|$)", re.sub(r"\s*\n\s*", " ", text))
    if because:
        return "the installer found no set of versions that fits: " + because.group(1).strip().rstrip(".")
    errors = [line.strip() for line in text.splitlines() if _ERROR_LINE.match(line)]
    detail = errors[0] if errors else (text.strip().splitlines() or ["no output"])[-1]
    detail = re.sub(r"^(?:×|error:|ERROR:)\s*", "", detail).rstrip(".:")
    return f"the installer stopped (exit code {job.exit_code}): {detail}"


def explain_failure(job: Job, constraints: list[str]) -> str:
    """One sentence for a failed job: the reason, and that nothing changed (the
    job was rolled back)."""
    reason = failure_reason(job, constraints)
    if reason.startswith("it needs") or reason.startswith("the installer"):
        reason = f"Could not {job.kind} {', '.join(job.specs)}: {reason}"
    if reason.startswith("no "):
        reason = "N" + reason[1:]
    return reason + NOTHING_CHANGED


def rebuild_reason(problems: list[str]) -> str:
    """The short why of a rebuild, from the problems the old venv had."""
    reasons = [p.split("; it is rebuilt")[0].rstrip(".") for p in problems if p]
    return "; ".join(r[:1].lower() + r[1:] for r in reasons)


def _listing(items: list[str], most: int = 6) -> str:
    shown = ", ".join(items[:most])
    return shown + (f" and {len(items) - most} more" if len(items) > most else "")


def _requested_names(specs: list[str]) -> list[str]:
    names = []
    for spec in specs:
        try:
            names.append(canonicalize_name(Requirement(spec).name))
        except Exception:  # noqa: BLE001 - a spec we cannot read is named as written
            names.append(spec)
    return names


def installed_summary(specs: list[str], before: dict[str, str], after: dict[str, str]) -> tuple[str, list[str]]:
    """("cowsay 6.1, rich 13.7 and 3 dependencies", names of specs that changed
    nothing) for what an install added: the packages asked for, then how many
    came with them."""
    added = {n: v for n, v in after.items() if before.get(n) != v}
    names = _requested_names(specs)
    main = [f"{n} {added[n]}" for n in names if n in added]
    unchanged = [f"{n} {after[n]}" if n in after else n for n in names if n not in added]
    deps = [f"{n} {v}" for n, v in sorted(added.items()) if n not in names]
    text = _listing(main)
    if deps:
        with_deps = f"{len(deps)} dependenc{'y' if len(deps) == 1 else 'ies'} ({_listing(deps, 4)})"
        text = f"{text} with {with_deps}" if main else with_deps
    return text, unchanged


def _provided_by_base(job: Job) -> dict[str, str]:
    """name -> version of the specs the base environment satisfied (logged by
    ``_not_provided_by_base``), so never installed."""
    found = {}
    for line in job.log:
        match = re.match(r"^(.+?): provided by the base environment \((.+)\); not installed\.$", line)
        if match:
            found.update({n: match.group(2) for n in _requested_names([match.group(1)])})
    return found


def success_message(job: Job, rebuilt: list[str] | None, before: dict[str, str], after: dict[str, str]) -> str:
    """One sentence for a job that succeeded: what the venv gained or lost,
    named by the packages the user asked for ("Installed cowsay 6.1")."""
    if job.kind == "repair":
        if rebuilt is not None:
            reason = rebuild_reason(rebuilt)
            venv = f"Rebuilt the venv ({reason})" if reason else "Rebuilt the venv"
        else:
            venv = "The venv was healthy"
        if not job.specs:
            return f"{venv}; you have not installed any packages to reinstall."
        text, unchanged = installed_summary(job.specs, before, after)
        if not text:
            return f"{venv} and has every package you installed ({_listing(unchanged)}): nothing was reinstalled."
        return f"{venv}; reinstalled {text}."
    if job.kind == "bootstrap":
        return f"Installed the requirements in {job.specs[0]}: {describe_changes(before, after)}."
    if job.kind == "uninstall":
        removed = [f"{n} {before[n]}" for n in _requested_names(job.specs) if n in before and n not in after]
        return f"Uninstalled {_listing(removed)}" if removed else f"{', '.join(job.specs)} was not installed: nothing changed"
    text, unchanged = installed_summary(job.specs, before, after)
    provided = _provided_by_base(job)
    in_base = [f"{n} {provided[n]}" for n in _requested_names(job.specs) if n in provided]
    unchanged = [u for u in unchanged if u.split(" ")[0] not in provided]
    already = ""
    if in_base:
        verb = "comes" if len(in_base) == 1 else "come"
        already = f"{_listing(in_base)} {verb} with Jupyter's environment"
    if unchanged:
        already += "; " if already else ""
        verb = "is" if len(unchanged) == 1 else "are"
        already += f"{_listing(unchanged)} {verb} already installed"
    if text:
        return f"Installed {text}" + (f"; {already}" if already else "")
    return f"{already}: nothing changed" if already else "Nothing changed"


def no_space(job: Job, since: int = 1) -> bool:
    return any(_NO_SPACE.search(line) for line in job.log[since:])


class PackageService:
    """The venv's package operations: one at a time per venv, across every Jupyter
    server sharing the state dir, each one all-or-nothing."""

    def __init__(self, settings: MarimoProxy) -> None:
        self.settings = settings
        self.layout = StateLayout(Path(settings.state_dir))
        self.queue = JobQueue(self._plan, guard=self._venv_job)

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

    def failed_packages(self) -> dict[str, str]:
        """name -> why the last repair could not reinstall it (still recorded)."""
        return load_manifest(self.layout.manifest).failed

    # -- the venv's lock, the journal, the roll-back -------------------------------

    async def _acquire(self, job: Job | None):
        """The venv's job lock (an flock: other Jupyter servers of this user share
        the venv), polled so the event loop never blocks; None if the job was
        cancelled while waiting."""
        await asyncio.to_thread(self.layout.ensure)
        handle = open(self.layout.jobs_lock, "a")
        told = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                if told and job is not None:
                    self.queue.log(job, "The other job has ended; this one starts.")
                return handle
            except BlockingIOError:
                pass
            if job is not None and job.cancel_requested:
                handle.close()
                return None
            if not told and job is not None:
                self.queue.log(job, "Waiting for a package job of another Jupyter server on this venv to finish...")
            told = True
            await asyncio.sleep(LOCK_POLL_SECONDS)

    @asynccontextmanager
    async def _venv_job(self, job: Job):
        handle = await self._acquire(job)
        try:
            if handle is not None:
                note = await asyncio.to_thread(self._recover)
                if note:
                    self.queue.log(job, note)
            yield
        finally:
            if handle is not None:
                try:
                    # The job ended some other way than through its on_exit (an
                    # error): take the venv back to where the job found it.
                    journal = read_journal(self.layout.job_journal)
                    if journal is not None and journal.get("server_pid") == os.getpid():
                        await asyncio.to_thread(self._roll_back_journal, journal)
                finally:
                    handle.close()

    def _write_journal(self, job: Job, before: Snapshot, **extra) -> None:
        write_journal(
            self.layout.job_journal,
            {
                "job": job.id,
                "kind": job.kind,
                "specs": job.specs,
                "server_pid": os.getpid(),
                "installer_pid": None,
                "installer_start": None,
                "before": before.to_json(),
                "written": time.time(),
                **extra,
            },
        )

    def _journal_pid(self, job: Job, pid: int) -> None:
        journal = read_journal(self.layout.job_journal)
        if journal is not None and journal.get("job") == job.id:
            journal.update(installer_pid=pid, installer_start=start_ticks(pid))
            # Not fsync'd: the pid only matters while the machine runs (a power
            # cut ends the installer too), and this runs on the event loop.
            write_journal(self.layout.job_journal, journal, durable=False)

    def _end_journal(self) -> None:
        self.layout.job_journal.unlink(missing_ok=True)

    def _roll_back_journal(self, journal: dict) -> Cleanup:
        """Stop the journal's installer if it still runs, then take the venv back
        to the journal's before-set and make the manifest agree."""
        pid = journal.get("installer_pid")
        if pid and journal.get("installer_start") and start_ticks(pid) == journal.get("installer_start"):
            stop_group_now(pid)
        before = journal.get("before")
        cleanup = rollback(self.layout.venv_dir, Snapshot.from_json(before) if before else None)
        self._sync_manifest(cleanup.after)
        self._end_journal()
        return cleanup

    def _recover(self) -> str | None:
        """Under the lock: roll back a job that never ended (this server's earlier
        life, or another server's) and remove incomplete distributions, however
        they came. Returns what was done, in words, or None."""
        journal = read_journal(self.layout.job_journal)
        if journal is not None:
            cleanup = self._roll_back_journal(journal)
            what = f"{journal.get('kind', 'install')} of {', '.join(journal.get('specs') or []) or 'packages'}"
            before = (journal.get("before") or {}).get("versions", {})
            changes = describe_changes(before, cleanup.after, unchanged="")
            removed = "; ".join(filter(None, [
                f"removed the half-installed {', '.join(cleanup.incomplete)}" if cleanup.incomplete else "",
                f"took back {', '.join(cleanup.rolled_back)}" if cleanup.rolled_back else "",
            ]))
            return (
                f"An interrupted {what} (job {journal.get('job')}) was rolled back"
                + (f": {removed}" if removed else "")
                + (f". Compared with before it: {changes}." if changes else ". The venv is as it was before it.")
            )
        if not self.layout.venv_dir.exists():
            return None
        cleanup = rollback(self.layout.venv_dir, None)
        if cleanup.incomplete:
            self._sync_manifest(cleanup.after)
            return f"Removed half-installed packages: {', '.join(cleanup.incomplete)}."
        return None

    def _sync_manifest(self, installed: dict[str, str]) -> None:
        """The manifest's record of what is installed follows the venv."""
        if not self.layout.manifest.exists() and not installed:
            return

        def follow(manifest: Manifest) -> None:
            manifest.installed = dict(installed)

        try:
            if load_manifest(self.layout.manifest).installed != installed:
                update_manifest(self.layout.manifest, follow)
        except OSError as error:
            log.warning("jupyter_marimo_proxy: could not update the manifest: %s", error)

    async def recover_at_start(self) -> Job | None:
        """Scheduled from the extension's load (startup never waits for it): repair
        what an interrupted job left. Shown as a finished job when there was work."""
        layout = self.layout
        if not layout.job_journal.exists() and not layout.venv_dir.exists():
            return None
        try:
            handle = await self._acquire(None)
        except OSError as error:
            log.warning("jupyter_marimo_proxy: no recovery of the venv: %s", error)
            return None
        try:
            note = await asyncio.to_thread(self._recover)
        finally:
            handle.close()
        if not note:
            return None
        log.warning("jupyter_marimo_proxy: %s", note)
        job = Job(kind="recover", specs=[], state=JobState.SUCCEEDED, message=note, exit_code=0)
        job.started = job.finished = time.time()
        job.log.append(note)
        return self.queue.add_finished(job)

    def shutdown(self) -> None:
        """At Jupyter's exit (a normal shutdown, SIGTERM): stop the running
        installer's process group and take the venv back to before its job."""
        job = self.queue.running()
        if job is not None and job.process is not None:
            job.cancel_requested = True
            stop_group_now(job.process.pid)
        journal = read_journal(self.layout.job_journal)
        if journal is not None and journal.get("server_pid") == os.getpid():
            # This process still holds the venv's lock: no other job runs.
            cleanup = self._roll_back_journal(journal)
            log.warning("jupyter_marimo_proxy: Jupyter stopped during a %s job: rolled back %s", journal.get("kind"), cleanup.to_json())

    # -- planning a job -------------------------------------------------------------

    async def _plan(self, job: Job) -> JobPlan:
        try:
            return await self._plan_job(job)
        except OSError as error:
            if error.errno == errno.ENOSPC:
                raise JobFailed(self._no_space_message(job, None)) from None
            raise

    def _no_space_message(self, job: Job, cleanup: Cleanup | None, before: dict[str, str] | None = None) -> str:
        nothing = "nothing was removed" if job.kind == "uninstall" else "nothing was installed"
        changes = describe_changes(before or {}, cleanup.after, unchanged="") if cleanup and before is not None else ""
        return f"No space left on device in {self.layout.root}: " + (f"{changes}." if changes else f"{nothing}.")

    def _interrupted_message(self, job: Job, before: dict[str, str], cleanup: Cleanup, constraints: list[str], since: int) -> str:
        changes = describe_changes(before, cleanup.after, unchanged="")
        nothing = "nothing was removed" if job.kind == "uninstall" else "nothing was installed"
        left = f"the venv changed: {changes}." if changes else f"{nothing}."
        if job.cancel_requested:
            return f"Cancelled: {left}"
        if no_space(job, since):
            return self._no_space_message(job, cleanup, before)
        code = job.exit_code
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"The installer was stopped ({name}) before it finished: {left}"
        step = Job(kind=job.kind, specs=job.specs)
        step.log, step.exit_code = job.log[since - 1 :], code
        message = explain_failure(step, constraints)
        if changes:
            message = message.removesuffix(NOTHING_CHANGED) + f"; the venv changed: {changes}."
        return message

    async def _plan_job(self, job: Job) -> JobPlan:
        # A repair runs the venv's interpreter to judge it; an install only checks files.
        replaced = await asyncio.to_thread(self._prepare_venv, job.kind == "repair")
        rebuilt = replaced.problems if replaced is not None and replaced.exists else None
        if job.kind == "repair":
            if rebuilt is None:
                # The launcher may have rebuilt it when marimo started: say so.
                rebuilt = await asyncio.to_thread(rebuild_to_report, self.layout.venv_dir)
            job.log.append("The venv was rebuilt: " + rebuild_reason(rebuilt) + "." if rebuilt is not None else "The venv itself is healthy.")
        installer = choose_installer(self.settings.installer)
        before = await asyncio.to_thread(snapshot, self.layout.venv_dir)
        constraints: list[str] = []
        constraints_file: Path | None = None
        command: list[str] | None = None
        to_install: list[str] = []
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
        elif job.specs and (to_install := await self._not_provided_by_base(job, before.versions)):
            constraints = await asyncio.to_thread(marimo_constraints, self.settings.base_python)
            constraints_file = self.layout.run_dir / f"constraints-{job.id}.txt"
            constraints_file.write_text("\n".join(constraints) + "\n", encoding="utf-8")
            command = install_command(
                installer, self.python, to_install, index_settings(self.settings), str(constraints_file)
            )
        env = self._installer_env()

        def before_start(started: Job) -> None:
            try:
                self._write_journal(started, before)
            except OSError as error:
                if constraints_file is not None:
                    constraints_file.unlink(missing_ok=True)
                if error.errno == errno.ENOSPC:
                    raise JobFailed(self._no_space_message(started, None)) from None
                raise

        async def on_exit(finished: Job) -> None:
            try:
                await self._settle(finished, before, rebuilt, constraints, to_install, installer, constraints_file, env)
            finally:
                if constraints_file is not None:
                    constraints_file.unlink(missing_ok=True)
                await asyncio.to_thread(self._end_journal)

        return JobPlan(command=command, env=env, on_exit=on_exit, before_start=before_start, on_start=self._journal_pid)

    async def _settle(self, job, before, rebuilt, constraints, to_install, installer, constraints_file, env) -> None:
        """Record a success; roll back anything else. A repair whose all-at-once
        install failed goes on package by package."""
        if job.exit_code == 0:
            after = await asyncio.to_thread(self._after_success, job)
            if job.kind == "repair":
                await asyncio.to_thread(self._record_repair, after.after, {})
            job.message = success_message(job, rebuilt, before.versions, after.after)
            if after.incomplete:
                job.message += f" Removed half-installed {', '.join(after.incomplete)}."
            return
        cleanup = await asyncio.to_thread(rollback, self.layout.venv_dir, before)
        await asyncio.to_thread(self._sync_manifest, cleanup.after)
        if job.kind == "repair" and not job.cancel_requested and job.exit_code is not None and len(to_install) > 0:
            await self._repair_one_by_one(job, rebuilt, constraints, to_install, installer, constraints_file, env)
            return
        job.message = self._interrupted_message(job, before.versions, cleanup, constraints, 1)

    def _after_success(self, job: Job) -> Cleanup:
        # The installer said it succeeded; still, nothing half-installed stays.
        cleanup = rollback(self.layout.venv_dir, None)
        installed = cleanup.after

        def record(manifest: Manifest) -> None:
            if job.kind == "install":
                manifest.add_requested(job.specs)
            elif job.kind == "uninstall":
                manifest.remove_requested(job.specs)
            manifest.installed = dict(installed)

        update_manifest(self.layout.manifest, record)
        return cleanup

    def _record_repair(self, installed: dict[str, str], failed: dict[str, str]) -> None:
        def record(manifest: Manifest) -> None:
            manifest.installed = dict(installed)
            manifest.failed = dict(failed)

        update_manifest(self.layout.manifest, record)
        mark_repaired(self.layout.venv_dir)

    async def _repair_one_by_one(self, job, rebuilt, constraints, to_install, installer, constraints_file, env) -> None:
        self.queue.log(job, "Reinstalling them all at once failed; trying them one by one.")
        reinstalled: list[str] = []
        failed: dict[str, str] = {}
        for spec in to_install:
            if job.cancel_requested:
                break
            step_before = await asyncio.to_thread(snapshot, self.layout.venv_dir)
            await asyncio.to_thread(self._write_journal, job, step_before)
            since = len(job.log) + 1
            command = install_command(installer, self.python, [spec], index_settings(self.settings), str(constraints_file))
            code = await self.queue.run_process(job, command, env, self._journal_pid)
            if code == 0:
                reinstalled.append(spec)
                continue
            await asyncio.to_thread(rollback, self.layout.venv_dir, step_before)
            step = Job(kind="install", specs=[spec])
            step.log, step.exit_code = job.log[since - 1 :], code
            if job.cancel_requested:
                break
            failed[canonicalize_name(Requirement(spec).name)] = (
                "no space left on device" if no_space(step) else failure_reason(step, constraints)
            )
        after = await asyncio.to_thread(rollback, self.layout.venv_dir, None)
        await asyncio.to_thread(self._record_repair, after.after, failed)
        if rebuilt is not None:
            reason = rebuild_reason(rebuilt)
            venv = f"Rebuilt the venv ({reason})" if reason else "Rebuilt the venv"
        else:
            venv = "The venv was healthy"
        parts = [venv]
        parts.append(f"reinstalled {', '.join(reinstalled)}" if reinstalled else "reinstalled nothing")
        if failed:
            parts.append(
                "could not reinstall "
                + "; ".join(f"{name} ({why.rstrip('.')})" for name, why in failed.items())
                + " - they stay recorded and the next Repair tries again"
            )
        untried = [s for s in to_install if s not in reinstalled and canonicalize_name(Requirement(s).name) not in failed]
        if untried:
            parts.append(f"cancelled before {', '.join(untried)}")
        job.message = "; ".join(parts) + "."
        job.exit_code = 0 if not failed and not untried else (job.exit_code or 1)

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

    def _prepare_venv(self, probe: bool = False):
        self.layout.ensure()
        return ensure_venv(self.layout.venv_dir, self.settings.base_python, probe=probe)

    def _installer_env(self) -> dict[str, str]:
        env = dict(os.environ)
        # The installer acts on the user venv, whatever venv Jupyter itself runs in.
        env["VIRTUAL_ENV"] = str(self.layout.venv_dir)
        env["PATH"] = os.pathsep.join([os.path.dirname(self.python), os.path.dirname(sys.executable), env.get("PATH", "")])
        env.pop("PYTHONPATH", None)
        env.setdefault("NO_COLOR", "1")
        return env
