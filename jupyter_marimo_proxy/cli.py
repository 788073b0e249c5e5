"""``jupyter marimo-proxy <command>``: ``doctor`` (what is installed and broken) and
``twins`` (twin notebooks in step and computing the same)."""

from __future__ import annotations

import sys

USAGE = """usage: jupyter marimo-proxy doctor
       jupyter marimo-proxy twins [PATH ...] [--sync [--from ipynb|marimo] [--force]] [--mark] [--convert-new] [--check] [--json]
(or: python -m jupyter_marimo_proxy ...)"""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["twins"]:
        from .twins.command import main as twins_main

        return twins_main(args[1:])
    if args[:1] == ["doctor"]:
        from .doctor import main as doctor_main

        return doctor_main(args)
    print(USAGE, file=sys.stderr)
    return 2
