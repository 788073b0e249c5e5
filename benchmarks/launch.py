"""Launch: from the first request to the tab URL until marimo's page arrives.

- floor: bare ``python -m marimo edit --headless`` started by hand, until ``/health`` answers;
- cold: a fresh state directory, so the user venv is created first;
- warm: the venv exists, marimo is not running (a new Jupyter server on the same state dir);
- warm with many notebooks (50; 5 in a smoke run) in the root folder instead of 1;
- warm, for a notebook: the tab URL of one notebook (``marimo/?file=notebook_00.py``);
- the peer (marimo-jupyter-extension, in its own venv), warm: its first request to
  ``marimo/`` with marimo not running;
- many at once: 8 Jupyter servers (4 in a smoke run) each opening marimo at the
  same moment, against as many bare marimo servers started at once (the slowest
  page against the slowest bare /health).

Each measurement starts its own Jupyter server (not timed); the kinds take turns
in every repetition. Alone:

    python benchmarks/launch.py [--repeat 5] [--smoke] [--json PATH]
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
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


def tab_once(
    server: Jupyter, timeline: list[dict] | None = None, path: str = "marimo/", memory: list[dict] | None = None
) -> float:
    with server:
        at = harness.boottime(), time.time()
        elapsed = time_marimo_tab(server, path)
        if timeline is not None:
            timeline.append(where_the_time_went(server, *at, elapsed))
        if memory is not None:
            memory.append(launcher_memory(server))
        return elapsed


def launcher_memory(server: Jupyter) -> dict:
    """The launcher's and its guard's memory, once marimo is up (what each user pays for them)."""
    out = {}
    for state_file in (server.state_dir / "run").glob("launch-[0-9]*.json"):
        facts = json.loads(state_file.read_text())
        for name in ("launcher", "guard"):
            pid = facts.get(f"{name}_pid")
            if pid:
                out[f"{name}_rss_mb"] = harness.rss_bytes(pid) / 1e6
                out[f"{name}_pss_mb"] = harness.pss_bytes(pid) / 1e6
    return out


def where_the_time_went(server: Jupyter, boot0: float, wall0: float, elapsed: float) -> dict:
    """Seconds after the request: when the launcher (ours) and marimo were spawned
    (from /proc), when the launcher saw marimo healthy (its state file), when the
    page arrived."""
    out: dict = {"page": elapsed}
    for pid in harness.descendants(server.proc.pid):
        args = harness.cmdline(pid)
        started = harness.started_at(pid)
        if started is None:
            continue
        if "jupyter_marimo_proxy.launcher" in args and "launcher_spawned" not in out:
            out["launcher_spawned"] = started - boot0
        elif harness.is_marimo_server(args):
            out["marimo_spawned"] = started - boot0
    if server.state_dir is not None:
        # One launch state per Jupyter server (named by the proxy's port).
        for state_file in (server.state_dir / "run").glob("launch-[0-9]*.json"):
            try:
                facts = json.loads(state_file.read_text())
            except (OSError, ValueError):
                continue
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


def slowest_of_many_bare(root: Path, count: int) -> float:
    """``count`` bare marimo servers started at once: the slowest until /health."""
    with ThreadPoolExecutor(count) as pool:
        return max(pool.map(lambda _: time_bare_marimo(root, timeout=120), range(count)))


def slowest_of_many_tabs(ctx: Context, root: Path, states: list[Path]) -> float:
    """As many Jupyter servers (started first, not timed) opening marimo at once: the slowest page."""
    servers = [ctx.our_server(root, state) for state in states]
    for server in servers:
        server.start()
    try:
        barrier = threading.Barrier(len(servers))

        def open_tab(server: Jupyter) -> float:
            barrier.wait()
            return time_marimo_tab(server)

        with ThreadPoolExecutor(len(servers)) as pool:
            return max(pool.map(open_tab, servers))
    finally:
        for server in servers:
            server.stop()


def run(ctx: Context) -> None:
    many = 5 if ctx.smoke else 50
    crowd = 4 if ctx.smoke else 8
    fig = ctx.report.figure(
        "launch",
        "first request to the tab URL (`GET {base_url}marimo/`, marimo not running) until marimo's page arrives",
    )
    one_root = harness.write_notebooks(ctx.work / "root-1", 1)
    many_root = harness.write_notebooks(ctx.work / f"root-{many}", many)
    peer_python = ctx.peer_python()
    kinds = ("floor", "cold", "warm", "warm_notebook", "warm_many", "peer", "crowd_bare", "crowd")
    times: dict[str, list[float]] = {k: [] for k in kinds}
    timelines: dict[str, list[dict]] = {"warm": [], "peer": []}
    memory: list[dict] = []
    for i in range(ctx.repeat):
        harness.log(f"launch: repetition {i + 1}/{ctx.repeat}")
        state = ctx.work / f"launch-state-{i}"
        times["floor"].append(time_bare_marimo(one_root))
        times["cold"].append(tab_once(ctx.our_server(one_root, state)))
        times["warm"].append(tab_once(ctx.our_server(one_root, state), timelines["warm"], memory=memory))
        times["warm_notebook"].append(tab_once(ctx.our_server(one_root, state), path="marimo/?file=notebook_00.py"))
        times["warm_many"].append(tab_once(ctx.our_server(many_root, state)))
        times["peer"].append(tab_once(ctx.peer_server(one_root), timelines["peer"]))
        # Each crowd member has a venv already (as each user of a hub would).
        crowd_states = [ctx.work / f"crowd-state-{n}" for n in range(crowd)]
        if i == 0:
            for crowd_state in crowd_states:
                tab_once(ctx.our_server(one_root, crowd_state))
        times["crowd_bare"].append(slowest_of_many_bare(one_root, crowd))
        times["crowd"].append(slowest_of_many_tabs(ctx, one_root, crowd_states))
    assert peer_python
    fig.add("floor", "floor: bare `marimo edit --headless` until /health", "s", times["floor"])
    fig.add("warm", "warm: venv exists, marimo not running", "s", times["warm"], ref="floor")
    fig.add("warm_notebook", "warm, a notebook's URL (`?file=`)", "s", times["warm_notebook"], ref="floor")
    fig.add("cold", "cold: no venv yet", "s", times["cold"], ref="floor")
    fig.add("warm_many", f"warm, {many} notebooks in the root (else 1)", "s", times["warm_many"], ref="warm")
    fig.add("peer", "peer, warm (marimo not running)", "s", times["peer"], ref="floor")
    fig.add("crowd_bare", f"{crowd} bare marimo started at once: the slowest until /health", "s", times["crowd_bare"])
    fig.add("crowd", f"{crowd} Jupyter servers opening marimo at once: the slowest page", "s", times["crowd"], ref="crowd_bare")

    memory_fig = ctx.report.figure("launcher memory", "the launcher and its guard, per user, with marimo running")
    for key, label in (
        ("launcher_rss_mb", "launcher, resident"),
        ("launcher_pss_mb", "launcher, proportional (shared pages split)"),
        ("guard_pss_mb", "guard (forked from the launcher), proportional"),
    ):
        values = [m[key] for m in memory if key in m]
        if values:
            memory_fig.add(key, label, "MB", values)

    warm, floor, peer, cold = (fig.series[k].median for k in ("warm", "floor", "peer", "cold"))
    notebook = fig.series["warm_notebook"].median
    crowd_ours, crowd_bare = fig.series["crowd"].median, fig.series["crowd_bare"].median
    fig.goal("warm ≤ 1.15x floor", f"{warm / floor:.2f}x ({warm:.2f} s vs {floor:.2f} s)", warm <= 1.15 * floor)
    fig.goal("warm, a notebook ≤ 1.15x floor", f"{notebook / floor:.2f}x ({notebook:.2f} s)", notebook <= 1.15 * floor)
    fig.goal("warm ≤ peer (warm)", f"{warm / peer:.2f}x ({warm:.2f} s vs {peer:.2f} s)", warm <= peer)
    fig.goal("cold ≤ floor + 1 s", f"floor + {cold - floor:.2f} s", cold <= floor + 1.0)
    fig.goal(
        f"{crowd} at once: slowest ≤ 1.3x the slowest bare",
        f"{crowd_ours / crowd_bare:.2f}x ({crowd_ours:.2f} s vs {crowd_bare:.2f} s)",
        crowd_ours <= 1.3 * crowd_bare,
    )
    fig.facts["notebooks_many"] = many
    fig.facts["crowd"] = crowd
    fig.facts["timelines"] = timelines
    fig.notes.append(timeline_note("warm, ours", timelines["warm"]))
    fig.notes.append(timeline_note("warm, peer", timelines["peer"]))


if __name__ == "__main__":
    sys.exit(harness.standalone("launch", run, __doc__))
