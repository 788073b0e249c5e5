"""Where an install job's time goes: each phase of the package service, timed
in-process (no HTTP), against the same ``uv pip install`` run bare.

The job runs exactly as it does in Jupyter (``PackageService`` with its queue,
lock, journal, snapshot, roll-back check and manifest); only the functions it
calls are wrapped with a timer. The "uv, bare" row is the installer command the
job ran, run again by itself, so "job total - uv, bare" is our overhead and the
phase rows say what it is made of. Alone:

    python benchmarks/install_phases.py [--repeat 9] [--json PATH]
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import harness  # noqa: E402
from benchmarks.harness import Context  # noqa: E402

from wheels import FIVE, build_fixture_wheelhouse  # noqa: E402 (tests/)

# The package service's collaborators, by the name it imports them under.
TIMED = {
    "package_service": (
        "snapshot",
        "rollback",
        "write_journal",
        "read_journal",
        "update_manifest",
        "load_manifest",
        "ensure_venv",
        "base_versions",
        "marimo_constraints",
        "user_packages",
    ),
}
METHODS = ("_acquire", "_recover", "_journal_pid", "_end_journal", "_installer_env")


class PhaseClock:
    def __init__(self) -> None:
        self.spent: dict[str, float] = defaultdict(float)

    def wrap(self, name, fn):
        if asyncio.iscoroutinefunction(fn):

            async def timed_async(*args, **kwargs):
                started = time.perf_counter()
                try:
                    return await fn(*args, **kwargs)
                finally:
                    self.spent[name] += time.perf_counter() - started

            return timed_async

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spent[name] += time.perf_counter() - started

        return timed

    def take(self) -> dict[str, float]:
        spent, self.spent = dict(self.spent), defaultdict(float)
        return spent


def instrument(clock: PhaseClock, undo: list):
    """Wrap the package service's steps with ``clock``; ``undo`` gets what puts them back."""
    from jupyter_marimo_proxy.packages import jobs, service as package_service

    def replace(owner, name, value) -> None:
        undo.append((owner, name, getattr(owner, name)))
        setattr(owner, name, value)

    for name in TIMED["package_service"]:
        replace(package_service, name, clock.wrap(name, getattr(package_service, name)))
    for name in METHODS:
        replace(package_service.PackageService, name, clock.wrap(name, getattr(package_service.PackageService, name)))
    commands: list[list[str]] = []
    original = jobs.JobQueue.run_process

    async def run_process(self, job, command, env, on_start=None):
        ran = command
        # The job deletes its constraints file when it ends: keep a copy for the bare run.
        if "--constraint" in command:
            at = command.index("--constraint") + 1
            kept = Path(command[at]).with_suffix(".kept")
            shutil.copyfile(command[at], kept)
            command = [*command[:at], str(kept), *command[at + 1 :]]
        commands.append((command, env))
        return await original(self, job, ran, env, on_start)

    replace(jobs.JobQueue, "run_process", clock.wrap("installer process (spawn to exit)", run_process))
    return commands


async def one_job(service, specs: list[str]):
    from packaging.requirements import Requirement

    job = service.install([Requirement(s) for s in specs])
    await service.queue.wait_finished(job)
    if job.state.value != "succeeded":
        raise RuntimeError("\n".join([job.message, *job.log[-20:]]))
    return job


async def empty(service, names) -> None:
    job = service.uninstall(list(names))
    await service.queue.wait_finished(job)


def run(ctx: Context) -> None:
    from jupyter_marimo_proxy.config import MarimoProxy
    from jupyter_marimo_proxy.packages.service import PackageService

    fig = ctx.report.figure("install_phases", "where a 5-wheel install job's time goes (in-process, no HTTP)")
    wheels = build_fixture_wheelhouse(ctx.work / "wheels")
    clock = PhaseClock()
    undo: list = []
    commands = instrument(clock, undo)
    state = ctx.work / "phases-state"
    shutil.rmtree(state, ignore_errors=True)
    settings = MarimoProxy(state_dir=str(state), find_links=[str(wheels)], no_index=True)
    service = PackageService(settings)
    names = list(FIVE)
    totals, bare = [], []
    phases: dict[str, list[float]] = defaultdict(list)

    async def main() -> None:
        await one_job(service, names)  # warm-up: makes the venv, fills uv's cache
        await empty(service, names)
        for i in range(ctx.repeat):
            harness.log(f"install phases: repetition {i + 1}/{ctx.repeat}")
            clock.take()
            commands.clear()
            started = time.perf_counter()
            job = await one_job(service, names)
            totals.append(time.perf_counter() - started)
            for name, seconds in clock.take().items():
                phases[name].append(seconds)
            phases["queued (submit to start)"].append(job.started - job.created)
            command, env = commands[0]
            await empty(service, names)
            bare.append(harness.timed(lambda: subprocess.run(command, env=env, capture_output=True, check=True)))
            await empty(service, names)

    try:
        asyncio.run(main())
    finally:
        for owner, name, value in reversed(undo):
            setattr(owner, name, value)
    ms = lambda xs: [x * 1000 for x in xs]  # noqa: E731
    fig.add("job", "install job, submit to succeeded", "ms", ms(totals))
    fig.add("bare", "the same uv command, run bare", "ms", ms(bare), ref="job")
    for name, samples in sorted(phases.items(), key=lambda kv: -statistics.median(kv[1])):
        fig.add(f"phase:{name}", f"  in the job: {name}", "ms", ms(samples))
    fig.notes.append(
        "Phases nest (the installer process's time includes the journal's pid update at its start); "
        "the job total minus the bare command is the overhead."
    )


if __name__ == "__main__":
    sys.exit(harness.standalone("install_phases", run, __doc__))
