"""Run every benchmark, print one markdown table and write the same as JSON.

    python -m benchmarks                 # the full run (5 repetitions; ~11 minutes on 2 cores)
    python -m benchmarks --smoke         # one repetition, small sizes (~2 minutes)
    python -m benchmarks --only launch,install --repeat 9

Run from the repository root with the project venv's Python (``.venv/bin``
first on PATH). The peer (marimo-jupyter-extension) and the baselines get
fresh venvs from the package index in a temporary folder; nothing else is
fetched, and every request goes to 127.0.0.1. See BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks import footprint, frontend_size, harness, install, install_phases, launch, roundtrip, tti

BENCHMARKS = {
    "frontend_size": frontend_size.run,
    "launch": launch.run,
    "roundtrip": roundtrip.run,
    "install": install.run,
    "install_phases": install_phases.run,
    "footprint": footprint.run,
    "tti": tti.run,
}
RESULTS = harness.REPO / "benchmarks" / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="one repetition, small sizes: checks that everything runs")
    parser.add_argument("--repeat", type=int, default=5, help="repetitions of each measurement (default 5)")
    parser.add_argument("--only", default="", help=f"comma-separated subset of: {', '.join(BENCHMARKS)}")
    parser.add_argument("--json", type=Path, default=None,
                        help="where to write the JSON (default benchmarks/results/latest.json, or smoke.json)")  # fmt: skip
    parser.add_argument("--peer", default=harness.PEER_SPEC, help=f"the peer's requirement (default {harness.PEER_SPEC})")
    parser.add_argument("--keep", action="store_true", help="keep the temporary work folder")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    json_path = args.json or RESULTS / ("smoke.json" if args.smoke else "latest.json")
    return harness.run_benchmarks(
        [(n, BENCHMARKS[n]) for n in names],
        repeat=1 if args.smoke else args.repeat,
        smoke=args.smoke,
        json_path=json_path,
        keep=args.keep,
        peer_spec=args.peer,
    )


if __name__ == "__main__":
    sys.exit(main())
