"""Launch: from the first request to the tab URL until marimo's page arrives.

- floor: bare ``python -m marimo edit --headless`` started by hand, until ``/health`` answers;
- cold: a fresh state directory, so the user venv is created first;
- warm: the venv exists, marimo is not running (a new Jupyter server on the same state dir);
- warm with many notebooks (50; 5 in a smoke run) in the root folder instead of 1;
- the peer (marimo-jupyter-extension, in its own venv), warm: its first request to
  ``marimo/`` with marimo not running;
- diagnostic: warm again, with jupyter-server-proxy's readiness check patched (from
  a Jupyter config file) to poll every 50 ms instead of backing off from 10 ms.

Each measurement starts its own Jupyter server (not timed); the kinds take turns
in every repetition. Alone:

    python benchmarks/launch.py [--repeat 5] [--smoke] [--json PATH]
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import harness  # noqa: E402
from benchmarks.harness import Context, Jupyter, time_marimo_tab  # noqa: E402

_direct = harness.loopback_session()


def time_bare_marimo(root: Path, timeout: float = 60) -> float:
    port = harness.free_port()
    command = [
        sys.executable, "-m", "marimo", "edit", str(root), "--headless", "--skip-update-check",
        "--no-token", "--host", harness.LOOPBACK, "--port", str(port),
    ]  # fmt: skip
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=root)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if _direct.get(f"http://{harness.LOOPBACK}:{port}/health", timeout=2).status_code == 200:
                    return time.perf_counter() - started
            except OSError:
                pass
            if proc.poll() is not None:
                raise RuntimeError("bare marimo exited")
            time.sleep(0.01)
        raise TimeoutError("bare marimo did not answer /health")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# Diagnostic, not a product setting: a Jupyter config file can patch
# simpervisor (which jupyter-server-proxy uses to wait for readiness) so that it
# checks every 50 ms instead of at 10 ms doubling. Shows what the readiness
# polling costs, with everything else unchanged.
FAST_READINESS_CONFIG = """
import asyncio, time
import simpervisor.process as _process

async def _ready_every_50ms(self):
    started = time.time()
    while time.time() - started <= self.ready_timeout:
        if self._killed or not self.proc:
            return False
        try:
            if await asyncio.wait_for(self.ready_func(self), 5):
                return True
        except asyncio.TimeoutError:
            pass
        await asyncio.sleep(0.05)
    return False

_process.SupervisedProcess.ready = _ready_every_50ms
"""


def tab_once(server: Jupyter, timeline: list[dict] | None = None) -> float:
    with server:
        at = harness.boottime(), time.time()
        elapsed = time_marimo_tab(server)
        if timeline is not None:
            timeline.append(where_the_time_went(server, *at, elapsed))
        return elapsed


def where_the_time_went(server: Jupyter, boot0: float, wall0: float, elapsed: float) -> dict:
    """Seconds after the request: when the launcher (ours) and marimo were spawned
    (from /proc), when the launcher saw marimo healthy (its state file), when the
    page arrived."""
    out: dict = {"page": elapsed}
    port = None
    for pid in harness.descendants(server.proc.pid):
        args = harness.cmdline(pid)
        started = harness.started_at(pid)
        if started is None:
            continue
        if "jupyter_marimo_proxy.launcher" in args:
            out["launcher_spawned"] = started - boot0
        elif harness.is_marimo_server(args):
            out["marimo_spawned"] = started - boot0
            if "--port" in args:
                port = args[args.index("--port") + 1]
    if server.state_dir is not None and port is not None:
        try:
            facts = json.loads((server.state_dir / "run" / f"launch-{port}.json").read_text())
        except (OSError, ValueError):
            facts = {}
        if facts.get("started"):
            out["marimo_healthy"] = facts["started"] - wall0
    return out


def timeline_note(kind: str, samples: list[dict]) -> str:
    names = {
        "launcher_spawned": "launcher spawned",
        "marimo_spawned": "marimo spawned",
        "marimo_healthy": "the launcher saw marimo healthy",
        "page": "page arrived",
    }
    parts = []
    for key, label in names.items():
        values = [s[key] for s in samples if key in s]
        if values:
            parts.append(f"{label} {harness.statistics.median(values):.2f} s")
    return f"{kind}, medians after the request: " + ", ".join(parts)


def run(ctx: Context) -> None:
    many = 5 if ctx.smoke else 50
    fig = ctx.report.figure(
        "launch",
        "first request to the tab URL (`GET {base_url}marimo/`, marimo not running) until marimo's page arrives",
    )
    one_root = harness.write_notebooks(ctx.work / "root-1", 1)
    many_root = harness.write_notebooks(ctx.work / f"root-{many}", many)
    peer_python = ctx.peer_python()
    times: dict[str, list[float]] = {k: [] for k in ("floor", "cold", "warm", "warm_many", "peer", "warm_fast")}
    timelines: dict[str, list[dict]] = {"warm": [], "peer": [], "warm_fast": []}
    for i in range(ctx.repeat):
        harness.log(f"launch: repetition {i + 1}/{ctx.repeat}")
        state = ctx.work / f"launch-state-{i}"
        times["floor"].append(time_bare_marimo(one_root))
        times["cold"].append(tab_once(ctx.our_server(one_root, state)))
        times["warm"].append(tab_once(ctx.our_server(one_root, state), timelines["warm"]))
        times["warm_many"].append(tab_once(ctx.our_server(many_root, state)))
        times["peer"].append(tab_once(ctx.peer_server(one_root), timelines["peer"]))
        fast = ctx.our_server(one_root, state, config=FAST_READINESS_CONFIG)
        times["warm_fast"].append(tab_once(fast, timelines["warm_fast"]))
    assert peer_python
    fig.add("floor", "floor: bare `marimo edit --headless` until /health", "s", times["floor"])
    fig.add("warm", "warm: venv exists, marimo not running", "s", times["warm"], ref="floor")
    fig.add("cold", "cold: no venv yet", "s", times["cold"], ref="floor")
    fig.add("warm_many", f"warm, {many} notebooks in the root (else 1)", "s", times["warm_many"], ref="warm")
    fig.add("peer", "peer, warm (marimo not running)", "s", times["peer"], ref="floor")
    fig.add("warm_fast", "diagnostic: warm, the proxy's readiness checked every 50 ms", "s", times["warm_fast"], ref="floor")

    warm, floor, peer, cold = (fig.series[k].median for k in ("warm", "floor", "peer", "cold"))
    fig.goal("warm ≤ 1.15x floor", f"{warm / floor:.2f}x ({warm:.2f} s vs {floor:.2f} s)", warm <= 1.15 * floor)
    fig.goal("warm ≤ peer (warm)", f"{warm / peer:.2f}x ({warm:.2f} s vs {peer:.2f} s)", warm <= peer)
    fig.goal("cold ≤ floor + 1 s", f"floor + {cold - floor:.2f} s", cold <= floor + 1.0)
    fig.facts["notebooks_many"] = many
    fig.facts["timelines"] = timelines
    fig.notes.append(timeline_note("warm, ours", timelines["warm"]))
    fig.notes.append(timeline_note("warm, peer", timelines["peer"]))
    fig.notes.append(timeline_note("diagnostic, readiness every 50 ms", timelines["warm_fast"]))


if __name__ == "__main__":
    sys.exit(harness.standalone("launch", run, __doc__))
