"""Launch benchmark: from the first request to the tab URL until marimo's page arrives.

- cold: a fresh state directory, so the user venv is created first;
- warm: the venv exists, marimo is not running (a new Jupyter server on the same state dir);
- floor: bare ``python -m marimo edit --headless`` started by hand, until ``/health`` answers.

Each repetition starts its own Jupyter server (not timed). Prints a markdown table
and optionally writes JSON.

    python benchmarks/launch.py [--repeat 5] [--json benchmarks/results/launch.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from jupyter_process import JupyterServer  # noqa: E402

_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def time_tab(server: JupyterServer) -> float:
    started = time.perf_counter()
    response = server.get("marimo/")
    elapsed = time.perf_counter() - started
    if response.status_code != 200 or "<marimo-version" not in response.text:
        raise RuntimeError(f"marimo did not load: {response.status_code} {response.text[:300]}")
    return elapsed


def time_bare_marimo(root: Path) -> float:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "marimo", "edit", str(root), "--headless", "--skip-update-check", "--no-token", "--port", str(port)]
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with _direct.open(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                    if response.status == 200:
                        return time.perf_counter() - started
            except OSError:
                pass
            if proc.poll() is not None:
                raise RuntimeError("bare marimo exited")
            time.sleep(0.02)
    finally:
        proc.terminate()
        proc.wait()


def summarize(samples: list[float]) -> dict:
    return {"median_s": statistics.median(samples), "min_s": min(samples), "max_s": max(samples), "samples_s": samples}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="jmp-bench-launch-"))
    results: dict[str, list[float]] = {"cold": [], "warm": [], "floor": []}
    try:
        root = work / "root"
        root.mkdir()
        for i in range(args.repeat):
            state = work / f"state-{i}"
            server = JupyterServer(root_dir=root, state_dir=state).start()
            try:
                results["cold"].append(time_tab(server))
            finally:
                server.stop()
            server = JupyterServer(root_dir=root, state_dir=state).start()
            try:
                results["warm"].append(time_tab(server))
            finally:
                server.stop()
            results["floor"].append(time_bare_marimo(root))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    summary = {name: summarize(samples) for name, samples in results.items()}
    floor = summary["floor"]["median_s"]
    report = {
        "benchmark": "launch: first request to the tab URL until marimo's page arrives",
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {platform.system()}, Python {platform.python_version()}",
        "repeat": args.repeat,
        "results": summary,
        "ratio_warm_to_floor": summary["warm"]["median_s"] / floor,
        "cold_minus_floor_s": summary["cold"]["median_s"] - floor,
    }
    print(f"\nLaunch ({args.repeat} repetitions)\n")
    print("| launch | median | min | max | vs floor |")
    print("|---|---|---|---|---|")
    labels = {
        "cold": "cold: no venv yet, through the proxy",
        "warm": "warm: venv exists, marimo not running, through the proxy",
        "floor": "floor: bare `marimo edit --headless` until /health",
    }
    for name in ("cold", "warm", "floor"):
        s = summary[name]
        print(
            f"| {labels[name]} | {s['median_s']:.2f} s | {s['min_s']:.2f} s | {s['max_s']:.2f} s | "
            f"{s['median_s'] / floor:.2f}x |"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
