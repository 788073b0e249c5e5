"""The sync record: ``marimo-twins.json`` in the folder that holds the twins.

It is meant to be committed with the notebooks, so a fresh clone knows whether
its twins are in step. It also names pairs whose files do not follow the
``x.ipynb`` <-> ``x.marimo.py`` rule::

    {"version": 1,
     "pairs": [{"ipynb": "report.ipynb", "marimo": "report_app.py",
                "synced": {"ipynb": "sha256:...", "marimo": "sha256:...",
                           "at": "2026-01-02T03:04:05Z", "from": "ipynb"}}]}

The fingerprints cover what a sync changes and nothing else: for the
notebook its cells' kinds and sources (outputs, execution counts and metadata
change whenever it runs), for the marimo file its text without
``__generated_with``.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..paths import write_in_root

RECORD_NAME = "marimo-twins.json"
_GENERATED_WITH = re.compile(r"^__generated_with\s*=.*$", re.MULTILINE)


class RecordError(Exception):
    """The record file cannot be read; the message says which and why."""


def fingerprint_ipynb(data: bytes) -> str:
    try:
        notebook = json.loads(data.decode("utf-8"))
        cells = notebook.get("cells", [])
        parts = []
        for cell in cells:
            source = cell.get("source", "")
            if isinstance(source, list):
                source = "".join(source)
            parts.append([cell.get("cell_type", ""), source.replace("\r\n", "\n").rstrip()])
    except (ValueError, AttributeError, UnicodeDecodeError):
        # Not a notebook we can read: any byte change is a change.
        return "sha256:" + hashlib.sha256(data).hexdigest()
    return "sha256:" + hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()


def fingerprint_marimo(data: bytes) -> str:
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n")
    text = _GENERATED_WITH.sub("", text)
    lines = [line.rstrip() for line in text.split("\n")]
    return "sha256:" + hashlib.sha256("\n".join(lines).strip().encode("utf-8")).hexdigest()


@dataclass
class PairEntry:
    ipynb: str
    marimo: str
    synced: dict | None = None

    def to_json(self) -> dict:
        entry: dict = {"ipynb": self.ipynb, "marimo": self.marimo}
        if self.synced:
            entry["synced"] = self.synced
        return entry


@dataclass
class Record:
    folder: Path
    pairs: list[PairEntry] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return self.folder / RECORD_NAME

    def find(self, ipynb: str | None = None, marimo: str | None = None) -> PairEntry | None:
        for entry in self.pairs:
            if (ipynb is not None and entry.ipynb == ipynb) or (marimo is not None and entry.marimo == marimo):
                return entry
        return None

    def mark_synced(self, ipynb_name: str, marimo_name: str, ipynb_data: bytes, marimo_data: bytes, source: str) -> None:
        entry = self.find(ipynb=ipynb_name) or self.find(marimo=marimo_name)
        if entry is None:
            entry = PairEntry(ipynb_name, marimo_name)
            self.pairs.append(entry)
        entry.ipynb, entry.marimo = ipynb_name, marimo_name
        entry.synced = {
            "ipynb": fingerprint_ipynb(ipynb_data),
            "marimo": fingerprint_marimo(marimo_data),
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "from": source,
        }

    def save(self, root: Path, allow_hidden: bool = True) -> None:
        self.pairs.sort(key=lambda entry: entry.ipynb)
        body = {"version": 1, "pairs": [entry.to_json() for entry in self.pairs]}
        data = (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        write_in_root(root, self.path, data, overwrite=True, allow_hidden=allow_hidden)


def _plain_name(value: object) -> bool:
    # A record names files of its own folder only: no paths, nothing hidden.
    return isinstance(value, str) and bool(value) and "/" not in value and "\\" not in value and not value.startswith(".")


def load_record(folder: Path) -> Record:
    path = folder / RECORD_NAME
    if path.is_symlink() or not path.is_file():
        return Record(folder)
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise RecordError(f"{path} cannot be read: {error}") from None
    record = Record(folder)
    for item in body.get("pairs", []) if isinstance(body, dict) else []:
        if not isinstance(item, dict) or not _plain_name(item.get("ipynb")) or not _plain_name(item.get("marimo")):
            continue
        synced = item.get("synced") if isinstance(item.get("synced"), dict) else None
        record.pairs.append(PairEntry(item["ipynb"], item["marimo"], synced))
    return record
