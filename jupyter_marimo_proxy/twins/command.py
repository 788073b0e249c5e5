"""``jupyter marimo-proxy twins [PATH ...]``: find twin notebooks, say whether they
are in step, sync them, convert a folder's lone notebooks, and check that both
sides compute the same.

Exit codes: 0 all in step (and equivalent with --check), 1 something is not,
2 a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import discovery as d
from .report import PairReport, render_text, summary_line

EPILOG = """states: in-step, notebook-changed, marimo-changed, conflict (both changed),
missing-notebook, missing-marimo, unrecorded (never synced), no-twin.
The sync record is marimo-twins.json beside the files: commit it."""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="jupyter marimo-proxy twins", description=__doc__.split("\n\n")[0], epilog=EPILOG)
    p.add_argument("paths", nargs="*", default=["."], help="files or folders (searched recursively); default: .")
    p.add_argument("--sync", action="store_true", help="regenerate the stale side from the changed one")
    p.add_argument("--from", dest="source", choices=("ipynb", "marimo"), help="with --sync: the side to keep")
    p.add_argument("--force", action="store_true", help="with --sync: overwrite a side that changed since the last sync")
    p.add_argument("--mark", action="store_true", help="record pairs as in step as they are now")
    p.add_argument("--convert-new", action="store_true", help="create the twin of every notebook that has none")
    p.add_argument("--check", action="store_true", help="run both sides on the marimo venv and compare their outputs")
    p.add_argument("--rtol", type=float, default=1e-6, help="relative tolerance for numbers (default 1e-6)")
    p.add_argument("--atol", type=float, default=1e-9, help="absolute tolerance for numbers (default 1e-9)")
    p.add_argument("--timeout", type=float, default=600, help="seconds each side may run (default 600)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--quiet", action="store_true", help="print only the summary line")
    return p


def venv_python_and_layout():
    from ..config import MarimoProxy
    from ..layout import StateLayout
    from ..venv import ensure_venv, venv_python

    settings = MarimoProxy()
    layout = StateLayout(Path(settings.state_dir))
    layout.ensure()
    ensure_venv(layout.venv_dir, settings.base_python)
    return str(venv_python(layout.venv_dir)), layout


def check_pair(report: PairReport, python: str, layout, args) -> None:
    from .compare import compare
    from .run import run_marimo_side, run_notebook_side

    twin = report.twin
    if not (twin.ipynb_path.is_file() and twin.marimo_path.is_file()):
        return
    notebook = run_notebook_side(layout, twin.ipynb_path, timeout=args.timeout)
    marimo = run_marimo_side(python, twin.marimo_path, timeout=args.timeout)
    report.seconds = {"notebook": notebook.seconds, "marimo": marimo.seconds}
    for side, run in (("notebook", notebook), ("marimo", marimo)):
        if run.error:
            report.run_errors[side] = run.error
    if report.run_errors:
        return
    marimo_text = twin.marimo_path.read_text(encoding="utf-8", errors="replace")
    report.comparison = compare(notebook.cells, marimo.cells, marimo_text, rtol=args.rtol, atol=args.atol)


def run(args) -> int:
    paths = [Path(p) for p in args.paths]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        print(f"twins: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    if (args.source or args.force) and not args.sync:
        print("twins: --from and --force go with --sync", file=sys.stderr)
        return 2
    from .sync import mark_in_step, sync_twin

    twins = d.find_twins(paths)
    reports = [PairReport(twin) for twin in twins]
    python = layout = None
    if args.sync or args.convert_new or args.check:
        python, layout = venv_python_and_layout()
    for report in reports:
        twin = report.twin
        if args.convert_new and twin.state == d.NO_TWIN:
            report.actions.append(sync_twin(python, twin))
        elif args.sync and twin.state != d.NO_TWIN:
            report.actions.append(sync_twin(python, twin, source=args.source, force=args.force))
        elif args.mark and twin.state in (d.UNRECORDED, d.NOTEBOOK_CHANGED, d.MARIMO_CHANGED, d.CONFLICT):
            report.actions.append(mark_in_step(twin))
        if report.actions:
            report.twin = report.actions[-1].twin
        if args.check and report.twin.state != d.NO_TWIN:
            check_pair(report, python, layout, args)
    base = Path(os.getcwd())
    if args.json:
        print(json.dumps({"summary": summary_line(reports), "ok": all(r.ok for r in reports),
                          "text": render_text(reports, base), "pairs": [r.to_json(base) for r in reports]}, indent=2))
    elif args.quiet:
        print(summary_line(reports))
    else:
        print(render_text(reports, base))
    return 0 if all(r.ok for r in reports) else 1


def main(argv: list[str]) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0) if exit_.code in (0, None) else 2
    return run(args)
