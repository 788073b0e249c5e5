"""Time to interactive: in Chromium, click the tile until a marimo cell has run.

Ours and the peer (marimo-jupyter-extension, its own venv, sandbox off) take
turns. Each sample starts its own ``jupyter lab`` (not timed), and
``tti.cjs`` drives a fresh headless Chromium (Playwright, the system
Chromium): JupyterLab loads (not timed), then from the click on the tile until
``print(6 * 7)`` in the first cell of a new notebook has printed 42. See
tti.cjs for the steps and what each phase means. marimo is not running at the
click; our user venv exists (made by an untimed warm-up). One untimed warm-up
sample of each first. (A smoke run skips the warm-ups: its first sample of
ours creates the venv.) Alone:

    python benchmarks/tti.py [--repeat 5] [--smoke] [--json PATH]

Needs Node, ``ui-tests/node_modules`` (made with ``npm ci`` if missing) and
Chromium at /usr/bin/chromium (or ``$BENCH_CHROMIUM``). ``BENCH_SHOTS=DIR``
keeps screenshots of the first repetition's steps.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import harness  # noqa: E402
from benchmarks.harness import Context, Jupyter  # noqa: E402

SCRIPT = Path(__file__).with_name("tti.cjs")
CHROMIUM = os.environ.get("BENCH_CHROMIUM", "/usr/bin/chromium")


def check_tools() -> str:
    node = shutil.which("node")
    if not node:
        raise RuntimeError("node is not on PATH")
    ui_tests = harness.REPO / "ui-tests"
    if not (ui_tests / "node_modules" / "playwright-core").is_dir():
        # As ui-tests/run.sh does: Playwright from the npm registry (no browser download).
        harness.log("installing ui-tests/node_modules (npm ci) for Playwright")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=ui_tests, check=True)
    if not os.access(CHROMIUM, os.X_OK):
        raise RuntimeError(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    return node


def sample(ctx: Context, node: str, server: Jupyter, flavor: str, shots: Path | None) -> dict:
    with server:
        opts = {
            "labUrl": f"{server.url}lab?token={server.token}",
            "flavor": flavor,
            "chromium": CHROMIUM,
            "timeoutMs": 120_000,
            "shots": str(shots) if shots else None,
        }
        result = subprocess.run([node, str(SCRIPT), json.dumps(opts)], capture_output=True, text=True, timeout=400)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"tti.cjs printed nothing (exit {result.returncode}):\n{result.stderr[-2000:]}")
    out = json.loads(lines[-1])
    if not out["ok"]:
        raise RuntimeError(f"{flavor}: {out.get('error', '')[:1500]}\n{server.log_tail(20)}")
    return {**out["phases"], "traffic": out.get("traffic", {})}


def run(ctx: Context) -> None:
    fig = ctx.report.figure(
        "time to interactive",
        "Chromium: click the Launcher tile until `print(6 * 7)` in a new notebook's first cell has printed 42",
    )
    node = check_tools()
    root = harness.write_notebooks(ctx.work / "tti-root", 1)
    state = ctx.work / "tti-state"
    lab_args = ["--ServerApp.open_browser=False"]
    shots = Path(os.environ["BENCH_SHOTS"]) if os.environ.get("BENCH_SHOTS") else None

    def ours() -> Jupyter:
        return ctx.our_server(root, state, app="jupyterlab", extra_args=lab_args)

    def peer() -> Jupyter:
        return ctx.peer_server(root, app="jupyterlab", extra_args=lab_args)

    # Untimed: the user venv (warm launches, as in the launch figure), and one
    # sample of each so that neither pays for a cold disk cache.
    if not ctx.smoke:
        with ours() as server:
            harness.time_marimo_tab(server)
        sample(ctx, node, ours(), "ours", None)
        sample(ctx, node, peer(), "peer", None)
    runs: dict[str, list[dict]] = {"ours": [], "peer": []}
    for i in range(ctx.repeat):
        harness.log(f"time to interactive: repetition {i + 1}/{ctx.repeat}")
        runs["ours"].append(sample(ctx, node, ours(), "ours", shots if i == 0 else None))
        runs["peer"].append(sample(ctx, node, peer(), "peer", shots if i == 0 else None))

    fig.add("peer", "peer: cell ran (\"New marimo Notebook\" tile)", "s", [r["ran"] for r in runs["peer"]])
    fig.add("ours", "ours: cell ran (\"marimo notebook\" tile)", "s",
            [r["ran"] for r in runs["ours"]], ref="peer")  # fmt: skip
    fig.add("peer_editor", "peer: first cell editor shows", "s", [r["editor"] for r in runs["peer"]], short="peer editor")
    fig.add("ours_editor", "ours: first cell editor shows", "s", [r["editor"] for r in runs["ours"]], ref="peer_editor")
    fig.add("ours_tab", "ours: the notebook's tab opens", "s", [r["page"] for r in runs["ours"]])
    ours_ran, peer_ran = fig.series["ours"].median, fig.series["peer"].median
    # Issue #13: the new-notebook entry to the first output in at most 0.8x the peer's time.
    fig.goal("≤ 0.8x the peer", f"{ours_ran / peer_ran:.2f}x ({ours_ran:.2f} s vs {peer_ran:.2f} s)", ours_ran <= 0.8 * peer_ran)
    fig.facts.update(runs=runs)


if __name__ == "__main__":
    sys.exit(harness.standalone("tti", run, __doc__))
