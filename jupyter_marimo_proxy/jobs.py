"""Install and uninstall jobs on the user venv: one at a time, in order, cancellable,
with the installer's output kept line by line for live following."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum


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
        }


@dataclass
class JobPlan:
    """What running a job means: a command, and what to do with its outcome."""

    # None: nothing to run (e.g. a repair with no packages to reinstall).
    command: list[str] | None
    env: dict[str, str] | None = None
    # Called with the job after the installer exits (success or failure); may
    # set job.message and record the outcome. Runs before waiters are told.
    on_exit: Callable[[Job], Awaitable[None]] | None = None


Planner = Callable[[Job], Awaitable[JobPlan]]

MAX_KEPT_JOBS = 100
CANCEL_GRACE_SECONDS = 3.0


class JobQueue:
    """Runs jobs one after another; keeps the recent ones for the API."""

    def __init__(self, planner: Planner) -> None:
        self._planner = planner
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
            except Exception as error:  # noqa: BLE001 - a job's failure must not stop the queue
                self._finish(job, JobState.FAILED, None, f"The job could not run: {error}")

    async def _run(self, job: Job) -> None:
        job.state = JobState.RUNNING
        job.started = time.time()
        self._notify()
        plan = await self._planner(job)
        if job.cancel_requested:
            # Cancelled while the venv was being prepared: never start the installer.
            self._finish(job, JobState.CANCELLED, None, "Cancelled before the installer started.")
            return
        if plan.command is None:
            job.exit_code = 0
            if plan.on_exit is not None:
                await plan.on_exit(job)
            self._finish(job, JobState.SUCCEEDED, 0, job.message)
            return
        self._append(job, "$ " + " ".join(plan.command))
        process = await asyncio.create_subprocess_exec(
            *plan.command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=plan.env,
            start_new_session=True,
        )
        job.process = process
        if job.cancel_requested:
            # The cancel arrived between the check above and the process's start.
            await _stop_group(process)
        assert process.stdout is not None
        async for raw in process.stdout:
            self._append(job, raw.decode("utf-8", errors="replace").rstrip("\r\n"))
        code = await process.wait()
        job.process = None
        job.exit_code = code
        if plan.on_exit is not None:
            await plan.on_exit(job)
        if job.cancel_requested:
            self._finish(job, JobState.CANCELLED, code, job.message or "Cancelled.")
        elif code == 0:
            self._finish(job, JobState.SUCCEEDED, code, job.message)
        else:
            self._finish(job, JobState.FAILED, code, job.message or f"The installer exited with code {code}.")

    # -- bookkeeping --------------------------------------------------------

    def _append(self, job: Job, line: str) -> None:
        job.log.append(line)
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
        except ProcessLookupError:
            return
        try:
            await asyncio.wait_for(process.wait(), CANCEL_GRACE_SECONDS)
            return
        except asyncio.TimeoutError:
            continue
