"""A real ``jupyter server`` in a subprocess, with our extension and jupyter-server-proxy."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

STATE_DIR_ENV = "JUPYTER_MARIMO_PROXY_STATE_DIR"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class JupyterServer:
    root_dir: Path
    state_dir: Path
    base_url: str = "/"
    extra_args: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    proc: subprocess.Popen | None = None
    log_path: Path | None = None
    # The server's working directory (default: the test's own). Start it with
    # ``command`` = the ``jupyter-server`` script, as users do: ``python -m``
    # would put the working directory on Jupyter's own sys.path.
    cwd: Path | None = None
    command: list[str] | None = None
    umask: int | None = None  # the server's umask (default: inherited)
    # A process group of its own, so a test can signal the group as systemd,
    # a container stop or a terminal's Ctrl-C would.
    own_group: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.base_url}"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def start(self, timeout: float = 60) -> "JupyterServer":
        self.root_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.root_dir.parent / f"jupyter-{self.port}.log"
        env = dict(os.environ, **{STATE_DIR_ENV: str(self.state_dir)})
        args = [
            *(self.command or [sys.executable, "-m", "jupyter_server"]),
            "--no-browser",
            "--allow-root",
            f"--port={self.port}",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.root_dir={self.root_dir}",
            f"--ServerApp.base_url={self.base_url}",
            f"--IdentityProvider.token={self.token}",
            "--ServerApp.port_retries=0",
            *self.extra_args,
        ]
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            args,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.cwd,
            umask=-1 if self.umask is None else self.umask,
            start_new_session=self.own_group,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter server exited early:\n{self.log()}")
            try:
                if requests.get(self.url + "api/status", headers=self.auth, timeout=2).ok:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"jupyter server did not start:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def get(self, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 120)
        return requests.get(self.url + path, headers={**self.auth, **kwargs.pop("headers", {})}, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 120)
        return requests.post(self.url + path, headers={**self.auth, **kwargs.pop("headers", {})}, **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 120)
        return requests.delete(self.url + path, headers={**self.auth, **kwargs.pop("headers", {})}, **kwargs)

    def wait_job(self, job_url: str, timeout: float = 120) -> dict:
        """Follow a job by long-polling until it finishes; return its final state with the whole log."""
        deadline = time.monotonic() + timeout
        offset, log = 0, []
        while time.monotonic() < deadline:
            job = requests.get(
                f"http://127.0.0.1:{self.port}{job_url}",
                params={"offset": offset, "wait": 5},
                headers=self.auth,
                timeout=30,
            ).json()
            log += job["log"]
            offset = job["next_offset"]
            if job["state"] in ("succeeded", "failed", "cancelled"):
                return {**job, "log": log}
        raise TimeoutError(f"job {job_url} did not finish: {log[-5:]}")

    def status(self) -> dict:
        response = self.get("jupyter-marimo-proxy/status")
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
