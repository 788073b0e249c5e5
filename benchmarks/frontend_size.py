"""Frontend size: bytes of the built labextension, gzip'd, ours vs the peer's.

The labextension as installed (``<prefix>/share/jupyter/labextensions/<name>``):
ours from the project venv, the peer's from its fresh venv. Counted: the
JavaScript and CSS under ``static/`` (what the browser may load), each file
gzip'd on its own (level 9), as a server compressing responses would send it;
also their raw size. Licence files, ``package.json`` and schemas are left out.
Alone:

    python benchmarks/frontend_size.py [--json PATH]
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import harness  # noqa: E402
from benchmarks.harness import Context  # noqa: E402

OURS = "jupyter-marimo-proxy"
PEERS = "@marimo-team/jupyter-extension"


def labextension_dir(prefix: Path, name: str) -> Path:
    path = prefix / "share" / "jupyter" / "labextensions" / name
    if not (path / "package.json").exists():
        raise FileNotFoundError(f"no labextension {name} under {prefix}")
    return path


def sizes(folder: Path) -> dict:
    files = sorted(p for p in (folder / "static").iterdir() if p.suffix in (".js", ".css") and p.is_file())
    raw = {p.name: p.stat().st_size for p in files}
    packed = {p.name: len(gzip.compress(p.read_bytes(), compresslevel=9, mtime=0)) for p in files}
    return {"folder": str(folder), "raw": raw, "gzip": packed, "raw_total": sum(raw.values()), "gzip_total": sum(packed.values())}


def run(ctx: Context) -> None:
    fig = ctx.report.figure("frontend size", "JS and CSS of the installed labextension, each file gzip'd (level 9)")
    ours = sizes(labextension_dir(Path(sys.prefix), OURS))
    peer = sizes(labextension_dir(ctx.peer_python().parent.parent, PEERS))
    fig.add("peer_gzip", "peer, gzip", "KiB", [peer["gzip_total"] / 1024], short="peer")
    fig.add("gzip", "ours, gzip", "KiB", [ours["gzip_total"] / 1024], ref="peer_gzip")
    fig.add("peer_raw", "peer, raw", "KiB", [peer["raw_total"] / 1024], short="peer raw")
    fig.add("raw", "ours, raw", "KiB", [ours["raw_total"] / 1024], ref="peer_raw")
    fig.facts.update(ours=ours, peer=peer)
    fig.goal(
        "gzip ≤ the peer's",
        f"{ours['gzip_total'] / 1024:.1f} KiB vs {peer['gzip_total'] / 1024:.1f} KiB",
        ours["gzip_total"] <= peer["gzip_total"],
    )


if __name__ == "__main__":
    sys.exit(harness.standalone("frontend_size", run, __doc__, default_repeat=1))
