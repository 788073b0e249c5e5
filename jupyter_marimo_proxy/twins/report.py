"""The twins report: readable text for people and CI logs, JSON for tools."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from . import discovery as d
from .compare import Comparison
from .sync import SyncResult


@dataclass
class PairReport:
    twin: d.Twin
    actions: list[SyncResult] = field(default_factory=list)
    comparison: Comparison | None = None
    run_errors: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def check_outcome(self) -> str | None:
        if self.comparison is None and not self.run_errors:
            return None
        if self.run_errors:
            return "failed"
        if self.comparison.failures:
            return "failed"
        return "equivalent" if self.comparison.equivalent else "different"

    @property
    def ok(self) -> bool:
        if self.twin.state in d.PROBLEMS:
            return False
        if any(action.action in ("refused", "failed") for action in self.actions):
            return False
        return self.check_outcome in (None, "equivalent")

    def to_json(self, relative_to: Path) -> dict:
        body = self.twin.to_json(relative_to)
        body["ok"] = self.ok
        body["actions"] = [{"action": a.action, "message": a.message} for a in self.actions]
        if self.check_outcome is not None:
            body["check"] = {
                "outcome": self.check_outcome,
                "run_errors": self.run_errors,
                "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
                **(self.comparison.to_json() if self.comparison else {}),
            }
        return body


def _rel(path: Path, base: Path) -> str:
    return os.path.relpath(path, base)


def summary_line(reports: list[PairReport]) -> str:
    pairs = [r for r in reports if r.twin.state != d.NO_TWIN]
    lone = len(reports) - len(pairs)
    counts: dict[str, int] = {}
    for report in pairs:
        counts[report.twin.state] = counts.get(report.twin.state, 0) + 1
    states = ", ".join(f"{n} {d.DESCRIPTIONS[s] if s != d.IN_STEP else 'in step'}" for s, n in sorted(counts.items()))
    line = f"twins: {len(pairs)} pair(s)" + (f" ({states})" if states else "")
    if lone:
        line += f", {lone} notebook(s) without a twin"
    checked = [r for r in reports if r.check_outcome is not None]
    if checked:
        outcome = {k: sum(1 for r in checked if r.check_outcome == k) for k in ("equivalent", "different", "failed")}
        line += f"; check: {outcome['equivalent']} equivalent, {outcome['different']} different, {outcome['failed']} failed"
    line += "; OK" if all(r.ok for r in reports) else "; NOT OK"
    return line


def render_text(reports: list[PairReport], base: Path, verbose: bool = True) -> str:
    lines: list[str] = []
    for report in reports:
        twin = report.twin
        if twin.state == d.NO_TWIN and not report.actions:
            present = twin.ipynb_path if twin.ipynb_path.exists() else twin.marimo_path
            lines.append(f"{_rel(present, base)}: {twin.description}")
            continue
        lines.append(f"{_rel(twin.ipynb_path, base)} <-> {twin.marimo}: {twin.description}")
        for action in report.actions:
            lines.append(f"  sync: {action.message}")
        if report.check_outcome is None:
            continue
        if report.run_errors:
            for side, error in report.run_errors.items():
                lines.append(f"  check: FAILED, the {side} side did not run: {error}")
            continue
        comparison = report.comparison
        body = comparison.to_json()
        timing = ", ".join(f"{side} {seconds:.1f} s" for side, seconds in report.seconds.items())
        lines.append(
            f"  check: {report.check_outcome.upper()} ({body['compared']} cell(s) equal, {body['differences']} different, "
            f"{body['not_compared']} output(s) not compared; {timing})"
        )
        for failure in comparison.failures:
            lines.append(f"    failure: {failure}")
        for cell in comparison.cells:
            if cell.status == "no-output" or (cell.status == "same" and not cell.not_compared):
                continue
            where = f"notebook cell {cell.ipynb_cell or '-'} / marimo cell {cell.marimo_cell or '-'}"
            lines.append(f"    [{cell.status}] {where}: {cell.preview}")
            for difference in cell.differences:
                lines.append(f"      - {difference}")
            if verbose:
                for item in cell.not_compared:
                    lines.append(f"      ~ not compared: {item}")
        for magic in comparison.magics:
            lines.append(f"    magic in notebook cell {magic['cell']}: {magic['line']!r}: {magic['treatment']}")
    lines.append(summary_line(reports))
    return "\n".join(lines)
