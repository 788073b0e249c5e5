"""Jupyter footprint: the server's start time and memory with the extension installed vs not.

Three venvs with exactly the project venv's packages (same versions):

- without: neither jupyter-marimo-proxy nor jupyter-server-proxy (which
  ``pip install jupyter-marimo-proxy`` brings along): the Jupyter a user had before;
- server-proxy only: jupyter-server-proxy but not jupyter-marimo-proxy;
- with: the project venv itself (jupyter-marimo-proxy, editable).

Each start is ``jupyter lab`` (``python -m jupyterlab``) with a fresh root and
state dir and an empty config dir. Start time: from spawning the process until
``/api/status`` answers (polled every 10 ms). CPU time: the server process's user + system time at that moment (/proc). Memory: the server's resident set
(VmRSS from /proc) 1 s after it answers, and again after it has served ``/lab``
once. Then: how many marimo processes run under it (must be 0 until first use).
The three take turns in every repetition. Alone:

    python benchmarks/footprint.py [--repeat 7] [--smoke] [--json PATH]
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import harness  # noqa: E402
from benchmarks.harness import Context, Jupyter  # noqa: E402

SETTLE_S = 1.0


def one_start(ctx: Context, python: Path, tag: str, i: int) -> dict:
    root = harness.write_notebooks(ctx.work / f"footprint-root-{tag}-{i}", 1)
    state = ctx.work / f"footprint-state-{tag}-{i}"
    server = Jupyter(python=python, root_dir=root, state_dir=state, work=ctx.work / "servers", app="jupyterlab")
    with server:
        time.sleep(SETTLE_S)
        rss_ready = server.rss()
        lab = server.get("lab")
        if lab.status_code != 200:
            raise RuntimeError(f"/lab answered {lab.status_code}")
        time.sleep(0.2)
        rss_lab = server.rss()
        marimos = harness.marimo_processes_under(server.proc.pid)
        children = harness.descendants(server.proc.pid)
        venv_made = (state / "venv").exists()
        return {
            "start_s": server.start_s,
            "start_cpu_s": server.start_cpu_s,
            "rss_ready_mb": rss_ready / 1e6,
            "rss_lab_mb": rss_lab / 1e6,
            "marimo_processes": len(marimos),
            "child_processes": len(children),
            "venv_made": venv_made,
        }


# In a fresh interpreter that has already imported Jupyter and JupyterLab: what
# importing each extension's server side adds (memory, CPU). Deterministic
# enough to say where the memory goes; it leaves out what loading does besides.
IMPORT_PROBE = r"""
import json, sys, time
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
import jupyter_server.serverapp, jupyterlab.labapp
out = {}
for step in json.loads(sys.argv[1]):
    r, c = rss(), time.process_time()
    for module in step["modules"]:
        __import__(module)
    out[step["name"]] = {"rss_mb": (rss() - r) / 1e6, "cpu_ms": (time.process_time() - c) * 1000}
print(json.dumps(out))
"""
OUR_STEPS = [
    {"name": "jupyter-server-proxy", "modules": ["jupyter_server_proxy"]},
    {"name": "jupyter-marimo-proxy", "modules": [
        "jupyter_marimo_proxy", "jupyter_marimo_proxy.config", "jupyter_marimo_proxy.handlers",
        "jupyter_marimo_proxy.session", "jupyter_marimo_proxy.kernelspec", "jupyter_marimo_proxy.server_proxy",
    ]},
]  # fmt: skip
PEER_STEPS = [
    {"name": "jupyter-server-proxy", "modules": ["jupyter_server_proxy"]},
    {"name": "peer", "modules": ["marimo_jupyter_extension", "marimo_jupyter_extension.handlers"]},
]


def import_costs(python: Path, steps: list[dict], repeat: int) -> dict[str, dict[str, float]]:
    samples: dict[str, dict[str, list[float]]] = {}
    for _ in range(repeat):
        result = subprocess.run([str(python), "-c", IMPORT_PROBE, json.dumps(steps)], capture_output=True, text=True, check=True)
        for name, facts in json.loads(result.stdout.strip().splitlines()[-1]).items():
            for key, value in facts.items():
                samples.setdefault(name, {}).setdefault(key, []).append(value)
    return {name: {k: statistics.median(v) for k, v in facts.items()} for name, facts in samples.items()}


def run(ctx: Context) -> None:
    fig = ctx.report.figure(
        "Jupyter footprint",
        "`jupyter lab` start (spawn until /api/status answers) and resident memory, extension installed vs not",
    )
    kinds = {
        "without": ctx.baseline_python(keep_server_proxy=False),
        "server_proxy": ctx.baseline_python(keep_server_proxy=True),
        "with": Path(sys.executable),
    }
    repeat = 1 if ctx.smoke else ctx.repeat + 2
    runs: dict[str, list[dict]] = {k: [] for k in kinds}
    # One start of each first, not counted: fills the page cache for all three.
    for tag, python in kinds.items() if not ctx.smoke else ():
        one_start(ctx, python, tag, -1)
    for i in range(repeat):
        harness.log(f"footprint: repetition {i + 1}/{repeat}")
        order = list(kinds.items())
        order = order[i % 3 :] + order[: i % 3]
        for tag, python in order:
            runs[tag].append(one_start(ctx, python, tag, i))

    labels = {
        "without": "without (no jupyter-marimo-proxy, no jupyter-server-proxy)",
        "server_proxy": "jupyter-server-proxy only",
        "with": "with jupyter-marimo-proxy",
    }
    for tag in kinds:
        ref = None if tag == "without" else "start_without"
        fig.add(f"start_{tag}", f"start, {labels[tag]}", "s", [r["start_s"] for r in runs[tag]], ref=ref,
                short="without" if tag == "without" else "")  # fmt: skip
    for tag in kinds:
        ref = None if tag == "without" else "cpu_without"
        fig.add(f"cpu_{tag}", f"CPU time to start, {labels[tag]}", "s", [r["start_cpu_s"] for r in runs[tag]], ref=ref,
                short="without" if tag == "without" else "")  # fmt: skip
    for tag in kinds:
        ref = None if tag == "without" else "rss_without"
        fig.add(f"rss_{tag}", f"memory after /lab, {labels[tag]}", "MB", [r["rss_lab_mb"] for r in runs[tag]], ref=ref,
                short="without" if tag == "without" else "")  # fmt: skip

    med = {k: s.median for k, s in fig.series.items()}
    d_start = (med["start_with"] - med["start_without"]) * 1000
    d_rss = med["rss_with"] - med["rss_without"]
    d_start_ours = (med["start_with"] - med["start_server_proxy"]) * 1000
    d_rss_ours = med["rss_with"] - med["rss_server_proxy"]
    d_cpu = (med["cpu_with"] - med["cpu_without"]) * 1000
    d_cpu_ours = (med["cpu_with"] - med["cpu_server_proxy"]) * 1000
    fig.goal("memory ≤ +5 MB", f"{d_rss:+.1f} MB (of which jupyter-marimo-proxy itself {d_rss_ours:+.1f} MB)", d_rss <= 5)
    fig.goal("start ≤ +50 ms", f"{d_start:+.0f} ms (of which jupyter-marimo-proxy itself {d_start_ours:+.0f} ms)", d_start <= 50)
    fig.goal(
        "start ≤ +50 ms, in CPU time (less sensitive to other load)",
        f"{d_cpu:+.0f} ms (of which jupyter-marimo-proxy itself {d_cpu_ours:+.0f} ms)",
        d_cpu <= 50,
    )
    marimos = max(r["marimo_processes"] for r in runs["with"])
    venvs = sum(r["venv_made"] for r in runs["with"])
    fig.goal(
        "marimo not started until first use",
        f"{marimos} marimo processes, user venv made at start in {venvs} of {len(runs['with'])} starts",
        marimos == 0 and venvs == 0,
    )
    ours = import_costs(Path(sys.executable), OUR_STEPS, repeat)
    peer = import_costs(ctx.peer_python(), PEER_STEPS, repeat)
    fig.facts["imports"] = {"ours": ours, "peer": peer}
    fig.notes.append(
        "importing the server side into a Jupyter process (medians): "
        + ", ".join(f"{name} {c['rss_mb']:+.1f} MB, {c['cpu_ms']:.0f} ms CPU" for name, c in ours.items())
        + f"; the peer's own {peer['peer']['rss_mb']:+.1f} MB, {peer['peer']['cpu_ms']:.0f} ms CPU"
    )
    fig.facts.update(runs=runs, start_delta_ms=d_start, rss_delta_mb=d_rss,
                     start_delta_ours_ms=d_start_ours, rss_delta_ours_mb=d_rss_ours,
                     cpu_delta_ms=d_cpu, cpu_delta_ours_ms=d_cpu_ours)  # fmt: skip


if __name__ == "__main__":
    sys.exit(harness.standalone("footprint", run, __doc__))
