"""Where each file of the extension's persistent state lives."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StateLayout:
    """Paths under the state directory; creating them is explicit (``ensure``)."""

    root: Path

    @property
    def venv_dir(self) -> Path:
        return self.root / "venv"

    @property
    def log_dir(self) -> Path:
        return self.root / "logs"

    @property
    def marimo_log(self) -> Path:
        return self.log_dir / "marimo.log"

    @property
    def run_dir(self) -> Path:
        # Per-launch files (the secret, the launcher's state). Private to the
        # user because the secret sits here.
        return self.root / "run"

    def secret_file(self, port: int) -> Path:
        return self.run_dir / f"secret-{port}"

    def launch_state_file(self, port: int) -> Path:
        return self.run_dir / f"launch-{port}.json"

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    @property
    def jobs_lock(self) -> Path:
        # Held by the one job (of any Jupyter server sharing this state dir)
        # that changes the venv.
        return self.root / "venv-jobs.lock"

    @property
    def job_journal(self) -> Path:
        # Written before an installer starts, removed when its job has ended:
        # found at a start, it names an interrupted job to roll back.
        return self.root / "job-journal.json"

    def ensure(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(exist_ok=True)
        self.run_dir.mkdir(mode=0o700, exist_ok=True)
        # mkdir's mode is ignored for an existing directory and masked by the
        # umask for a new one; enforce it.
        os.chmod(self.run_dir, 0o700)
