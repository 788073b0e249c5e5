"""What every benchmark shares: Jupyter servers, venvs, /proc, statistics, the report.

Loopback only: every request goes to 127.0.0.1, never through a proxy from the
environment. Every wait is bounded.
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Callable

import requests

REPO = Path(__file__).resolve().parent.parent
if str(REPO / "tests") not in sys.path:
    sys.path.insert(0, str(REPO / "tests"))

LOOPBACK = "127.0.0.1"
PEER_SPEC = "marimo-jupyter-extension==0.5.0"
PEER_NAME = "marimo-jupyter-extension"
STATE_DIR_ENV = "JUPYTER_MARIMO_PROXY_STATE_DIR"
# Settings that would make the installers look somewhere else than where a
# benchmark tells them (this machine sets PIP_FIND_LINKS, for instance).
INSTALLER_ENV = ("PIP_FIND_LINKS", "UV_FIND_LINKS", "PIP_NO_INDEX", "UV_NO_INDEX")


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def loopback_session() -> requests.Session:
    """A requests session that ignores HTTP proxies set in the environment."""
    session = requests.Session()
    session.trust_env = False
    return session


def package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


# -- /proc --------------------------------------------------------------------


def rss_bytes(pid: int) -> int:
    """Resident set size of one process (VmRSS), 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def pss_bytes(pid: int) -> int:
    """Proportional set size (pages shared with other processes counted in part), 0 if gone."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (10 ms resolution)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def started_at(pid: int) -> float | None:
    """When a process started, in seconds of CLOCK_BOOTTIME (10 ms resolution)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[19]) / os.sysconf("SC_CLK_TCK")


def boottime() -> float:
    return time.clock_gettime(time.CLOCK_BOOTTIME)


def load_average() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


def _ppid_table() -> dict[int, int]:
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may contain spaces.
        fields = stat[stat.rindex(")") + 2 :].split()
        table[int(entry.name)] = int(fields[1])
    return table


def descendants(pid: int) -> list[int]:
    table = _ppid_table()
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in table.items() if pp == parent]
        found += children
        frontier += children
    return found


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
    except OSError:
        return []


def is_marimo_server(args: list[str]) -> bool:
    """``python -m marimo edit ...`` or ``.../bin/marimo edit ...``."""
    return "edit" in args and any(a == "marimo" or a.endswith("/marimo") for a in args[:3])


def marimo_processes_under(pid: int) -> list[int]:
    """marimo servers started (directly or not) by ``pid``."""
    return [p for p in descendants(pid) if is_marimo_server(cmdline(p))]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.platform()


# -- a Jupyter server in a subprocess ------------------------------------------------


@dataclass
class Jupyter:
    """``jupyter server`` (or ``jupyter lab``) of a given venv, on loopback with a token.

    Each server gets its own config dir (``JUPYTER_CONFIG_DIR``), so nothing in
    ``~/.jupyter`` takes part; ``config`` is written there as
    ``jupyter_server_config.py``. ``start_s`` is the time from spawning the
    process until ``/api/status`` answers (polled every 10 ms).
    """

    python: Path
    root_dir: Path
    work: Path
    state_dir: Path | None = None
    app: str = "jupyter_server"  # or "jupyterlab"
    config: str = ""
    extra_args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    drop_env: tuple[str, ...] = ()
    port: int = field(default_factory=free_port)
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    proc: subprocess.Popen | None = None
    start_s: float | None = None
    start_cpu_s: float | None = None

    def __post_init__(self) -> None:
        self.http = loopback_session()
        self.http.headers["Authorization"] = f"token {self.token}"

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/"

    @property
    def log_path(self) -> Path:
        return self.work / f"jupyter-{self.port}.log"

    def start(self, timeout: float = 120) -> "Jupyter":
        self.root_dir.mkdir(parents=True, exist_ok=True)
        config_dir = self.work / f"jupyter-config-{self.port}"
        config_dir.mkdir(parents=True, exist_ok=True)
        (config_dir / "jupyter_server_config.py").write_text(self.config)
        env = {k: v for k, v in os.environ.items() if k not in self.drop_env}
        bin_dir = str(self.python.parent)
        env.update(
            PATH=os.pathsep.join([bin_dir, env.get("PATH", "")]),
            JUPYTER_CONFIG_DIR=str(config_dir),
            VIRTUAL_ENV=str(self.python.parent.parent),
        )
        env.pop("PYTHONPATH", None)
        if self.state_dir is not None:
            env[STATE_DIR_ENV] = str(self.state_dir)
        env.update(self.env)
        args = [
            str(self.python),
            "-m",
            self.app,
            "--no-browser",
            "--allow-root",
            f"--port={self.port}",
            f"--ServerApp.ip={LOOPBACK}",
            f"--ServerApp.root_dir={self.root_dir}",
            f"--IdentityProvider.token={self.token}",
            "--ServerApp.port_retries=0",
            *self.extra_args,
        ]
        self.work.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as out:
            started = time.perf_counter()
            # A process group of its own, so that whatever it leaves behind can be found.
            self.proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter exited early:\n{self.log_tail()}")
            if self._status_answers():
                self.start_s = time.perf_counter() - started
                self.start_cpu_s = cpu_seconds(self.proc.pid)
                return self
            time.sleep(0.01)
        self.stop()
        raise RuntimeError(f"jupyter did not start within {timeout} s:\n{self.log_tail()}")

    def _status_answers(self) -> bool:
        conn = http.client.HTTPConnection(LOOPBACK, self.port, timeout=5)
        try:
            conn.request("GET", "/api/status", headers={"Authorization": f"token {self.token}"})
            return conn.getresponse().status == 200
        except OSError:
            return False
        finally:
            conn.close()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def get(self, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 120)
        return self.http.get(self.url + path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 120)
        return self.http.post(self.url + path, **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 120)
        return self.http.delete(self.url + path, **kwargs)

    def wait_job(self, job_url: str, timeout: float = 300) -> dict:
        """Follow one of the extension's jobs by long-polling until it finishes."""
        deadline = time.monotonic() + timeout
        offset, lines = 0, []
        while time.monotonic() < deadline:
            job = self.http.get(
                f"http://{LOOPBACK}:{self.port}{job_url}",
                params={"offset": offset, "wait": 5},
                timeout=30,
            ).json()
            lines += job["log"]
            offset = job["next_offset"]
            if job["state"] in ("succeeded", "failed", "cancelled"):
                return {**job, "log": lines}
        raise TimeoutError(f"job {job_url} did not finish: {lines[-5:]}")

    def rss(self) -> int:
        return rss_bytes(self.proc.pid) if self.proc else 0

    def stop(self) -> None:
        if not self.proc:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        # Anything still in the server's own process group is ours to end.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def __enter__(self) -> "Jupyter":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


MARIMO_PAGE_MARK = "<marimo-version"


def is_marimo_page(response: requests.Response) -> bool:
    return response.status_code == 200 and MARIMO_PAGE_MARK in response.text


def time_marimo_tab(server: Jupyter, path: str = "marimo/") -> float:
    """First request to ``marimo/`` (or a notebook's URL under it) until marimo's page arrives through the proxy."""
    started = time.perf_counter()
    response = server.get(path)
    elapsed = time.perf_counter() - started
    if not is_marimo_page(response):
        raise RuntimeError(
            f"marimo did not load: {response.status_code} {response.text[:300]}\n{server.log_tail()}"
        )
    return elapsed


# -- venvs -----------------------------------------------------------------------------


def uv_path() -> str:
    from jupyter_marimo_proxy.packages.installer import choose_installer

    uv = choose_installer("uv")
    if uv.name != "uv":
        raise RuntimeError("uv is not available in the project venv")
    return uv.path


def make_venv(path: Path, requirements: list[str]) -> Path:
    """A fresh venv on this interpreter's Python with ``requirements`` from the index (uv)."""
    if path.exists():
        shutil.rmtree(path)
    uv = uv_path()
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([uv, "venv", "--quiet", "--python", base, str(path)], check=True)
    python = path / "bin" / "python"
    req = path.parent / f"{path.name}-requirements.txt"
    req.write_text("\n".join(requirements) + "\n")
    result = subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", str(python), "-r", str(req)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"could not make {path}: {result.stderr[-2000:]}")
    return python


def project_versions() -> dict[str, str | None]:
    names = ["jupyterlab", "jupyter-server", "jupyter-server-proxy", "marimo", "simpervisor", "uv", "jupyter-marimo-proxy"]
    return {name: package_version(name) for name in names}


def project_freeze() -> list[str]:
    """The project venv's packages, pinned, without the project itself."""
    result = subprocess.run(
        [uv_path(), "pip", "freeze", "--python", sys.executable, "--exclude-editable"],
        check=True,
        capture_output=True,
        text=True,
    )
    return [line for line in result.stdout.splitlines() if line and not line.startswith("-e ")]


# -- statistics and the report -----------------------------------------------------------


UNITS = {"s": 1.0, "ms": 1e-3, "MB": 1e6, "KiB": 1024, "B": 1}


def fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "ms":
        return f"{value:.1f} ms" if abs(value) < 10 else f"{value:.0f} ms"
    if unit == "MB":
        return f"{value:.1f} MB"
    if unit == "KiB":
        return f"{value:.1f} KiB"
    return f"{value:g} {unit}"


@dataclass
class Series:
    key: str
    label: str
    unit: str
    samples: list[float]
    ref: str | None = None  # the key of the series this one is compared with
    short: str = ""  # how the ratio column names this series

    def __post_init__(self) -> None:
        self.short = self.short or self.key

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "label": self.label,
            "unit": self.unit,
            "n": len(self.samples),
            "median": self.median,
            "min": min(self.samples),
            "max": max(self.samples),
            "samples": self.samples,
            "ref": self.ref,
        }


@dataclass
class Goal:
    text: str
    measured: str
    met: bool | None  # None: not measured


@dataclass
class Figure:
    name: str
    how: str
    series: dict[str, Series] = field(default_factory=dict)
    goals: list[Goal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    facts: dict = field(default_factory=dict)
    error: str | None = None

    def add(
        self, key: str, label: str, unit: str, samples: list[float], ref: str | None = None, short: str = ""
    ) -> Series:
        series = Series(key, label, unit, list(samples), ref, short)
        self.series[key] = series
        return series

    def ratio(self, key: str, ref: str) -> float:
        return self.series[key].median / self.series[ref].median

    def goal(self, text: str, measured: str, met: bool | None) -> None:
        self.goals.append(Goal(text, measured, met))

    def as_dict(self) -> dict:
        out = {
            "figure": self.name,
            "how": self.how,
            "series": [s.as_dict() for s in self.series.values()],
            "goals": [g.__dict__ for g in self.goals],
            "notes": self.notes,
            "facts": self.facts,
            "error": self.error,
        }
        for s, d in zip(self.series.values(), out["series"]):
            if s.ref and s.ref in self.series:
                d["ratio"] = self.ratio(s.key, s.ref)
        return out


@dataclass
class Report:
    smoke: bool
    repeat: int
    figures: list[Figure] = field(default_factory=list)
    facts: dict = field(default_factory=dict)

    def figure(self, name: str, how: str) -> Figure:
        fig = Figure(name, how)
        self.figures.append(fig)
        return fig

    def machine(self) -> dict:
        return {
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
            "memory_gib": round(memory_gib(), 1),
            "os": os_name(),
            "kernel": platform.release(),
            "arch": platform.machine(),
            "python": platform.python_version(),
        }

    def as_dict(self) -> dict:
        return {
            "date": time.strftime("%Y-%m-%d"),
            "smoke": self.smoke,
            "repeat": self.repeat,
            "machine": self.machine(),
            "versions": project_versions(),
            **self.facts,
            "figures": [f.as_dict() for f in self.figures],
        }

    def markdown(self) -> str:
        m = self.machine()
        v = project_versions()
        lines = [
            f"{time.strftime('%Y-%m-%d')}, {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['os']}, "
            f"Python {m['python']}; marimo {v['marimo']}, jupyter-server-proxy {v['jupyter-server-proxy']}, "
            f"jupyter_server {v['jupyter-server']}, JupyterLab {v['jupyterlab']}, uv {v['uv']}"
            + (f"; peer {self.facts['peer']}" if self.facts.get("peer") else "")
            + (" (smoke run: one repetition, small sizes; not for comparing)" if self.smoke else "")
            + ".",
            "",
            "| figure | series | n | median | min | max | ratio | to |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for fig in self.figures:
            if fig.error:
                lines.append(f"| {fig.name} | **failed**: {fig.error.splitlines()[0][:150]} | | | | | | |")
                continue
            for s in fig.series.values():
                ratio, to = "", ""
                if s.ref and s.ref in fig.series:
                    ratio = f"{fig.ratio(s.key, s.ref):.2f}x"
                    to = fig.series[s.ref].short
                lines.append(
                    f"| {fig.name} | {s.label} | {len(s.samples)} | {fmt(s.median, s.unit)} | "
                    f"{fmt(min(s.samples), s.unit)} | {fmt(max(s.samples), s.unit)} | {ratio} | {to} |"
                )
        goals = [(fig, g) for fig in self.figures for g in fig.goals]
        if goals:
            lines += ["", "| figure | goal | measured | met |", "|---|---|---|---|"]
            for fig, g in goals:
                met = {True: "yes", False: "**no**", None: "reported"}[g.met]
                lines.append(f"| {fig.name} | {g.text} | {g.measured} | {met} |")
        notes = [(fig, n) for fig in self.figures for n in fig.notes]
        if notes:
            lines += [""] + [f"- {fig.name}: {n}" for fig, n in notes]
        return "\n".join(lines)


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")


# -- a run --------------------------------------------------------------------------------

# The peer's settings for every run: no network (no update check), and marimo
# without a sandbox, as ours runs it (the sandbox would make each notebook's
# kernel install marimo with uv from the index).
PEER_CONFIG = """\
c.MarimoProxyConfig.skip_update_check = True
c.MarimoProxyConfig.sandbox = None
"""


@dataclass
class Context:
    work: Path
    repeat: int
    smoke: bool
    report: Report
    peer_spec: str = PEER_SPEC
    _venvs: dict[str, Path] = field(default_factory=dict)

    def peer_python(self) -> Path:
        """The peer in a fresh venv from the index, with our versions of what both use."""
        if "peer" not in self._venvs:
            v = project_versions()
            pins = [f"{name}=={v[name]}" for name in ("jupyterlab", "jupyter-server", "jupyter-server-proxy", "marimo")]
            log(f"making the peer's venv: {self.peer_spec} {' '.join(pins)}")
            started = time.perf_counter()
            python = make_venv(self.work / "venv-peer", [self.peer_spec, *pins])
            peer_version = subprocess.run(
                [str(python), "-c", f"from importlib.metadata import version; print(version({PEER_NAME!r}))"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
            self.report.facts["peer"] = f"{PEER_NAME} {peer_version}"
            log(f"peer venv ready in {time.perf_counter() - started:.1f} s ({PEER_NAME} {peer_version})")
            self._venvs["peer"] = python
        return self._venvs["peer"]

    def baseline_python(self, keep_server_proxy: bool) -> Path:
        """The project venv's exact packages without jupyter-marimo-proxy (and,
        unless ``keep_server_proxy``, without jupyter-server-proxy)."""
        key = "no-ours" if keep_server_proxy else "bare"
        if key not in self._venvs:
            drop = {"jupyter-marimo-proxy"} | (set() if keep_server_proxy else {"jupyter-server-proxy", "simpervisor"})
            wanted = [r for r in project_freeze() if r.split("==")[0].lower() not in drop]
            log(f"making the baseline venv '{key}' ({len(wanted)} packages)")
            self._venvs[key] = make_venv(self.work / f"venv-{key}", wanted)
        return self._venvs[key]

    def peer_server(self, root: Path, **kwargs) -> Jupyter:
        return Jupyter(python=self.peer_python(), root_dir=root, work=self.work / "servers", config=PEER_CONFIG, **kwargs)

    def our_server(self, root: Path, state: Path, **kwargs) -> Jupyter:
        return Jupyter(python=Path(sys.executable), root_dir=root, state_dir=state, work=self.work / "servers", **kwargs)


def write_notebooks(folder: Path, count: int) -> Path:
    """``count`` small marimo notebooks in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    marimo_version = package_version("marimo") or "0.0.0"
    for i in range(count):
        (folder / f"notebook_{i:02d}.py").write_text(
            "import marimo\n\n"
            f'__generated_with = "{marimo_version}"\n'
            "app = marimo.App()\n\n\n"
            "@app.cell\n"
            "def _():\n"
            f"    x = {i}\n"
            "    return (x,)\n\n\n"
            'if __name__ == "__main__":\n'
            "    app.run()\n"
        )
    return folder


def run_benchmarks(
    benchmarks: list[tuple[str, Callable[[Context], None]]],
    *,
    repeat: int,
    smoke: bool,
    json_path: Path | None,
    keep: bool = False,
    peer_spec: str = PEER_SPEC,
) -> int:
    """Run each benchmark, print the markdown table, write the JSON. Non-zero if one failed."""
    import tempfile
    import traceback

    work = Path(tempfile.mkdtemp(prefix="jmp-bench-"))
    report = Report(smoke=smoke, repeat=repeat)
    report.facts["load_average_before"] = load_average()
    ctx = Context(work=work, repeat=repeat, smoke=smoke, report=report, peer_spec=peer_spec)
    started = time.perf_counter()
    failed = []
    try:
        for name, run in benchmarks:
            log(f"{name}: starting")
            t0 = time.perf_counter()
            count = len(report.figures)
            try:
                run(ctx)
            except Exception as error:  # noqa: BLE001 (one failure must not hide the others)
                traceback.print_exc()
                failed.append(name)
                new = report.figures[count:]
                fig = new[-1] if new else report.figure(name, "")
                fig.error = f"{type(error).__name__}: {error}"
            log(f"{name}: done in {time.perf_counter() - t0:.1f} s")
    finally:
        if keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    report.facts["elapsed_s"] = round(time.perf_counter() - started, 1)
    report.facts["load_average_after"] = load_average()
    print()
    print(report.markdown())
    print(f"\n({'smoke' if smoke else 'full'} run, {report.facts['elapsed_s']:.0f} s)")
    if json_path:
        write_json(json_path, report.as_dict())
        log(f"wrote {json_path}")
    if failed:
        log(f"failed: {', '.join(failed)}")
        return 1
    return 0


def standalone(name: str, run: Callable[[Context], None], doc: str, default_repeat: int = 5) -> int:
    """``python benchmarks/<name>.py [--repeat N] [--json PATH]``: one benchmark alone."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=default_repeat)
    parser.add_argument("--smoke", action="store_true", help="one repetition, small sizes")
    parser.add_argument("--json", type=Path, default=None, help="where to write the results as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    repeat = 1 if args.smoke else args.repeat
    return run_benchmarks([(name, run)], repeat=repeat, smoke=args.smoke, json_path=args.json, keep=args.keep)
