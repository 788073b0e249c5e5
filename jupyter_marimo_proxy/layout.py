"""Where each file of the extension's persistent state lives."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .private_files import private_dir


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

    def marimo_log(self, port: int) -> Path:
        # One log per server: two Jupyter servers of one user share the state
        # dir, and neither may rotate (or show) the other's log.
        return self.log_dir / f"marimo-{port}.log"

    @property
    def run_dir(self) -> Path:
        # Per-launch files (the secret, the launcher's state).
        return self.root / "run"

    def secret_file(self, port: int) -> Path:
        return self.run_dir / f"secret-{port}"

    def launch_state_file(self, port: int) -> Path:
        return self.run_dir / f"launch-{port}.json"

    def launch_spec_file(self, port: int) -> Path:
        return self.run_dir / f"launch-spec-{port}.json"

    def activity_file(self, port: int) -> Path:
        # Its modification time is marimo's last use (launch/activity.py).
        return self.run_dir / f"activity-{port}"

    @property
    def rebuild_note(self) -> Path:
        # Left by a launcher that rebuilt the venv; the server reinstalls the manifest.
        return self.root / "venv-rebuilt.json"

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
        """The state dir and its folders, private to the user whatever the umask:
        on a shared machine nothing in them is for other accounts."""
        for folder in (self.root, self.log_dir, self.run_dir):
            private_dir(folder)
