"""Install benchmark: the same five fixture wheels, three ways, in one run.

1. through the extension's API (POST packages, follow the job until it succeeds),
   on a real Jupyter server, into its user venv;
2. plain ``uv pip install`` into a fresh venv;
3. plain ``pip install`` into a fresh venv.

All three install offline from the same wheel folder (``--no-index --find-links``).
Between repetitions the API's venv is emptied again (uninstall, not timed), and
the plain venvs are made anew (not timed). Prints a markdown table and writes JSON.

    python benchmarks/install.py [--repeat 5] [--json benchmarks/results/install.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from jupyter_process import JupyterServer  # noqa: E402
from wheels import FIVE, build_fixture_wheelhouse  # noqa: E402

from jupyter_marimo_proxy.installer import choose_installer  # noqa: E402

API = "jupyter-marimo-proxy/"


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def via_api(server: JupyterServer) -> None:
    response = server.post(API + "packages", json={"specs": list(FIVE)})
    response.raise_for_status()
    job = server.wait_job(response.headers["Location"])
    if job["state"] != "succeeded":
        raise RuntimeError(job["log"])


def empty_api_venv(server: JupyterServer) -> None:
    for name in FIVE:
        response = server.delete(API + f"packages/{name}")
        if response.status_code == 202:
            server.wait_job(response.headers["Location"])


def fresh_venv(path: Path, with_pip: bool) -> Path:
    if path.exists():
        shutil.rmtree(path)
    args = [sys.executable, "-m", "venv", str(path)] + ([] if with_pip else ["--without-pip"])
    subprocess.run(args, check=True)
    return path / "bin" / "python"


def plain(command: list[str]) -> None:
    subprocess.run(command, check=True, capture_output=True)


def summarize(samples: list[float]) -> dict:
    return {
        "median_s": statistics.median(samples),
        "min_s": min(samples),
        "max_s": max(samples),
        "samples_s": samples,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None, help="where to write the results as JSON")
    args = parser.parse_args()

    uv = choose_installer("uv")
    if uv.name != "uv":
        print("uv is not available", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="jmp-bench-install-"))
    wheels = build_fixture_wheelhouse(work / "wheels")
    offline = ["--no-index", "--find-links", str(wheels)]
    server = JupyterServer(
        root_dir=work / "root",
        state_dir=work / "state",
        extra_args=[f"--MarimoProxy.find_links={wheels}", "--MarimoProxy.no_index=True"],
    ).start()
    results: dict[str, list[float]] = {"api": [], "uv": [], "pip": []}
    try:
        # Warm-up, not timed: creates the user venv and fills the installers' caches.
        via_api(server)
        empty_api_venv(server)
        for _ in range(args.repeat):
            results["api"].append(timed(lambda: via_api(server)))
            empty_api_venv(server)

            python = fresh_venv(work / "uv-venv", with_pip=False)
            results["uv"].append(
                timed(lambda: plain([uv.path, "pip", "install", "--python", str(python), *offline, *FIVE]))
            )
            python = fresh_venv(work / "pip-venv", with_pip=True)
            results["pip"].append(
                timed(
                    lambda: plain(
                        [str(python), "-m", "pip", "install", "--disable-pip-version-check", *offline, *FIVE]
                    )
                )
            )
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    summary = {name: summarize(samples) for name, samples in results.items()}
    uv_median = summary["uv"]["median_s"]
    report = {
        "benchmark": "install five fixture wheels",
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {platform.system()}, Python {platform.python_version()}",
        "repeat": args.repeat,
        "uv_version": uv.version,
        "results": summary,
        "ratio_api_to_uv": summary["api"]["median_s"] / uv_median,
        "ratio_pip_to_uv": summary["pip"]["median_s"] / uv_median,
        "ratio_pip_to_api": summary["pip"]["median_s"] / summary["api"]["median_s"],
        # A fixed cost per job (HTTP, spawning from the server, reading metadata
        # for the job's message, the fsync'd manifest): it does not grow with the install.
        "overhead_api_minus_uv_ms": (summary["api"]["median_s"] - uv_median) * 1000,
        "goal": "api within 1.2x of plain uv",
    }
    print(f"\nInstall five fixture wheels ({args.repeat} repetitions, uv {uv.version})\n")
    print("| how | median | min | max | ratio to plain uv |")
    print("|---|---|---|---|---|")
    labels = {"api": "through the API", "uv": "plain `uv pip install`", "pip": "plain `pip install`"}
    for name in ("api", "uv", "pip"):
        s = summary[name]
        print(
            f"| {labels[name]} | {s['median_s'] * 1000:.0f} ms | {s['min_s'] * 1000:.0f} ms | "
            f"{s['max_s'] * 1000:.0f} ms | {s['median_s'] / uv_median:.2f}x |"
        )
    print(
        f"\nAPI / uv = {report['ratio_api_to_uv']:.2f} (goal <= 1.2); pip / API = {report['ratio_pip_to_api']:.2f}; "
        f"API overhead over uv = {report['overhead_api_minus_uv_ms']:.0f} ms per job"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
