"""Install and uninstall jobs on the user venv: one at a time, in order, cancellable,
with the installer's output kept line by line for live following."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import itertools
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import AsyncContextManager

from ..launch.scrub import scrub
from ..processes import pid_alive


class JobState(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


@dataclass
class Job:
    kind: str  # "install" or "uninstall"
    specs: list[str]
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    state: JobState = JobState.QUEUED
    exit_code: int | None = None
    message: str = ""
    log: list[str] = field(default_factory=list)
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    # Set while the installer runs, so a cancel can stop its whole process group.
    process: asyncio.subprocess.Process | None = field(default=None, repr=False)
    cancel_requested: bool = False

    def to_json(self, offset: int = 0) -> dict:
        offset = max(0, min(offset, len(self.log)))
        return {
            "id": self.id,
            "kind": self.kind,
            "specs": self.specs,
            "state": self.state.value,
            "exit_code": self.exit_code,
            "message": self.message,
            "created": self.created,
            "started": self.started,
            "finished": self.finished,
            "log": self.log[offset:],
            "offset": offset,
            "next_offset": len(self.log),
            # The installer's process (its group) while one runs.
            "pid": self.process.pid if self.process is not None else None,
        }


class JobFailed(Exception):
    """Raised while planning a job: the job fails with this message as it is."""


@dataclass
class JobPlan:
    """What running a job means: a command, and what to do with its outcome."""

    # None: nothing to run (e.g. a repair with no packages to reinstall).
    command: list[str] | None
    env: dict[str, str] | None = None
    # Called with the job after the installer exits (success or failure), and
    # also when a cancel came before it started (exit_code None); may set
    # job.message, record the outcome, run further steps (``JobQueue.run_process``)
    # and settle job.exit_code, which decides the final state. Runs before waiters are told.
    on_exit: Callable[[Job], Awaitable[None]] | None = None
    # Called just before the installer starts (the job's journal is written
    # here) and with its pid once it has started.
    before_start: Callable[[Job], None] | None = None
    on_start: Callable[[Job, int], None] | None = None


Planner = Callable[[Job], Awaitable[JobPlan]]
# Around each job, from before planning until its outcome is recorded: the
# package service takes the venv's lock across Jupyter servers here.
Guard = Callable[[Job], AsyncContextManager[None]]

MAX_KEPT_JOBS = 100
CANCEL_GRACE_SECONDS = 3.0


class JobQueue:
    """Runs jobs one after another; keeps the recent ones for the API."""

    def __init__(self, planner: Planner, guard: Guard | None = None) -> None:
        self._planner = planner
        self._guard = guard
        self._jobs: dict[str, Job] = {}
        self._pending: asyncio.Queue[Job] | None = None
        self._worker: asyncio.Task | None = None
        self._changed: asyncio.Condition | None = None
        self._sequence = itertools.count()

    # The asyncio objects are made on first use, inside the server's event loop.
    def _ensure_worker(self) -> None:
        if self._pending is None:
            self._pending = asyncio.Queue()
            self._changed = asyncio.Condition()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.ensure_future(self._work())

    def submit(self, job: Job) -> Job:
        self._ensure_worker()
        self._jobs[job.id] = job
        self._forget_old()
        assert self._pending is not None
        self._pending.put_nowait(job)
        self._notify()
        return job

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def all(self) -> list[Job]:
        return sorted(self._jobs.values(), key=lambda j: j.created)

    def busy(self) -> bool:
        return any(not j.state.finished for j in self._jobs.values())

    def running(self) -> Job | None:
        return next((j for j in self._jobs.values() if j.state == JobState.RUNNING), None)

    def add_finished(self, job: Job) -> Job:
        """Show a job that was done outside the queue (a recovery at start)."""
        self._jobs[job.id] = job
        self._forget_old()
        self._notify()
        return job

    def log(self, job: Job, line: str) -> None:
        self._append(job, line)

    async def cancel(self, job: Job) -> Job:
        if job.state == JobState.QUEUED:
            self._finish(job, JobState.CANCELLED, None, "Cancelled before it started.")
        elif job.state == JobState.RUNNING:
            # _run sees the flag when the installer exits and records the outcome.
            job.cancel_requested = True
            if job.process is not None:
                await _stop_group(job.process)
        return job

    async def wait_for_change(
        self, job: Job, offset: int, timeout: float, seen_state: JobState | None = None
    ) -> None:
        """Return when the job has log past ``offset``, has left ``seen_state`` (queued to
        running, say) or has finished; or after ``timeout``."""
        seen_state = seen_state or job.state

        def changed() -> bool:
            return job.state.finished or job.state != seen_state or len(job.log) > offset

        if changed() or timeout <= 0:
            return
        self._ensure_worker()
        assert self._changed is not None
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(changed), timeout)
            except asyncio.TimeoutError:
                pass

    async def wait_finished(self, job: Job, timeout: float | None = None) -> Job:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not job.state.finished:
            remaining = 5.0 if deadline is None else deadline - time.monotonic()
            if remaining <= 0:
                break
            await self.wait_for_change(job, len(job.log), min(remaining, 5.0))
        return job

    # -- the worker ---------------------------------------------------------

    async def _work(self) -> None:
        assert self._pending is not None
        while True:
            job = await self._pending.get()
            if job.state != JobState.QUEUED:
                continue
            try:
                await self._run(job)
            except JobFailed as failure:
                self._finish(job, JobState.FAILED, job.exit_code, str(failure))
            except Exception as error:  # noqa: BLE001 - a job's failure must not stop the queue
                self._finish(job, JobState.FAILED, None, f"The job could not run: {error}")

    async def _run(self, job: Job) -> None:
        job.state = JobState.RUNNING
        job.started = time.time()
        self._notify()
        guard = self._guard(job) if self._guard is not None else contextlib.nullcontext()
        async with guard:
            await self._run_guarded(job)

    async def _run_guarded(self, job: Job) -> None:
        if job.cancel_requested:
            self._finish(job, JobState.CANCELLED, None, "Cancelled before it started.")
            return
        plan = await self._planner(job)
        code: int | None = 0
        if job.cancel_requested:
            # Cancelled while the venv was being prepared: never start the installer.
            code = None
        elif plan.command is not None:
            if plan.before_start is not None:
                plan.before_start(job)
            code = await self.run_process(job, plan.command, plan.env, plan.on_start)
        job.exit_code = code
        if plan.on_exit is not None:
            await plan.on_exit(job)
        code = job.exit_code
        if code == 0:
            # A cancel that came after the installer had finished changes nothing.
            self._finish(job, JobState.SUCCEEDED, code, job.message)
        elif job.cancel_requested:
            self._finish(job, JobState.CANCELLED, code, job.message or "Cancelled before the installer started.")
        else:
            self._finish(job, JobState.FAILED, code, job.message or f"The installer exited with code {code}.")

    async def run_process(
        self,
        job: Job,
        command: list[str],
        env: dict[str, str] | None,
        on_start: Callable[[Job, int], None] | None = None,
    ) -> int | None:
        """Run one installer command for ``job``, its output into the job's log;
        its exit code, or None when a cancel came first. A cancel stops its
        process group; it dies with this process too (Linux: parent-death signal)."""
        if job.cancel_requested:
            return None
        self._append(job, "$ " + " ".join(command))
        if _setpriv is False:
            # The first job looks setpriv up (a `setpriv --help`): off the event loop.
            await asyncio.to_thread(_setpriv_with_pdeathsig)
        argv, preexec_fn = dying_with_parent(command)
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=env,
            start_new_session=True,
            preexec_fn=preexec_fn,
        )
        job.process = process
        self._notify()
        try:
            if on_start is not None:
                on_start(job, process.pid)
            if job.cancel_requested:
                # The cancel arrived between the check above and the process's start.
                await _stop_group(process)
            assert process.stdout is not None
            async for raw in process.stdout:
                self._append(job, raw.decode("utf-8", errors="replace").rstrip("\r\n"))
            return await process.wait()
        finally:
            job.process = None

    # -- bookkeeping --------------------------------------------------------

    def _append(self, job: Job, line: str) -> None:
        # The log reaches the browser: index credentials in a URL and the like are masked.
        job.log.append(scrub(line))
        self._notify()

    def _finish(self, job: Job, state: JobState, code: int | None, message: str) -> None:
        job.state = state
        job.exit_code = code
        job.message = message
        job.finished = time.time()
        self._notify()

    def _notify(self) -> None:
        if self._changed is None:
            return
        changed = self._changed

        async def wake() -> None:
            async with changed:
                changed.notify_all()

        asyncio.ensure_future(wake())

    def _forget_old(self) -> None:
        finished = [j for j in self.all() if j.state.finished]
        for job in finished[: max(0, len(self._jobs) - MAX_KEPT_JOBS)]:
            del self._jobs[job.id]


async def _stop_group(process: asyncio.subprocess.Process) -> None:
    """SIGTERM the installer's process group, SIGKILL if it lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
            # A stopped process (SIGSTOP, Ctrl-Z) acts on SIGTERM only once continued.
            os.killpg(process.pid, signal.SIGCONT)
        except ProcessLookupError:
            return
        try:
            await asyncio.wait_for(process.wait(), CANCEL_GRACE_SECONDS)
            return
        except asyncio.TimeoutError:
            continue


def stop_group_now(pid: int, grace: float = CANCEL_GRACE_SECONDS) -> None:
    """``_stop_group`` for when no event loop runs (at exit, in a worker thread)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
            os.killpg(pid, signal.SIGCONT)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                return
            time.sleep(0.02)


PR_SET_PDEATHSIG = 1
_prctl = None
_setpriv: str | None | bool = False  # False: not looked for yet


def _setpriv_with_pdeathsig() -> str | None:
    """util-linux's ``setpriv`` if it has ``--pdeathsig`` (util-linux 2.33+), else None."""
    global _setpriv
    if _setpriv is False:
        found = shutil.which("setpriv")
        if found is not None:
            try:
                usage = subprocess.run([found, "--help"], capture_output=True, text=True, timeout=10).stdout
            except (OSError, subprocess.SubprocessError):
                usage = ""
            found = found if "--pdeathsig" in usage else None
        _setpriv = found
    return _setpriv


def dying_with_parent(command: list[str]) -> tuple[list[str], Callable[[], None] | None]:
    """The argv and ``preexec_fn`` that start ``command`` so that it gets SIGTERM
    when Jupyter dies, even by SIGKILL (Linux; elsewhere the command as it is).

    ``setpriv --pdeathsig`` first: a ``preexec_fn`` makes Python fork the whole
    Jupyter process instead of using vfork, which costs 8-10 ms a job in a
    100+ MB server (measured: benchmarks/install_phases.py). The setting
    survives setpriv's exec of the installer, and the installer keeps
    setpriv's pid, so the job still stops it by its process group. Unlike the
    hook, setpriv cannot see that Jupyter died in the millisecond before it set
    the signal; the next start's recovery stops such an installer (the job's
    journal names it)."""
    setpriv = _setpriv_with_pdeathsig() if sys.platform.startswith("linux") else None
    if setpriv is not None:
        return [setpriv, "--pdeathsig", "TERM", "--", *command], None
    return command, _die_with_parent_hook()


def _die_with_parent_hook() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the installer get SIGTERM when Jupyter dies,
    even by SIGKILL (Linux); None elsewhere. prctl is looked up here, in the
    parent: the child, between fork and exec, only calls it."""
    global _prctl
    if not sys.platform.startswith("linux"):
        return None
    if _prctl is None:
        try:
            _prctl = ctypes.CDLL(None, use_errno=True).prctl
        except (OSError, AttributeError):
            return None
    prctl = _prctl
    parent = os.getpid()

    def die_with_parent() -> None:
        prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:  # Jupyter died before the line above
            os.kill(os.getpid(), signal.SIGTERM)

    return die_with_parent
