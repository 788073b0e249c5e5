"""A project's requirements.txt, read as data: requirement lines only."""

from __future__ import annotations

from pathlib import Path

from packaging.requirements import Requirement

from .specs import MAX_SPECS, SpecError, parse_spec

MAX_FILE_BYTES = 256 * 1024


def read_requirements_file(path: Path) -> list[Requirement]:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise SpecError(f"{path.name} is larger than {MAX_FILE_BYTES // 1024} KiB.")
    return parse_requirements(path, path.read_text(encoding="utf-8", errors="replace"))


def parse_requirements(path: Path, text: str) -> list[Requirement]:
    """Every requirement in the file's ``text``; refuse it whole if any line is an option.

    Options (-r, -e, --index-url, ...) would let a file in the workspace choose
    indexes or run arbitrary builds; index settings belong to the server.
    """
    requirements: list[Requirement] = []
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        try:
            requirements.append(parse_spec(line))
        except SpecError as error:
            problems.append(f"line {number}: {error}")
    if problems:
        raise SpecError(f"{path.name} cannot be installed as it is: " + "; ".join(problems[:5]))
    if not requirements:
        raise SpecError(f"{path.name} lists no requirements.")
    if len(requirements) > MAX_SPECS * 4:
        raise SpecError(f"{path.name} lists more than {MAX_SPECS * 4} requirements.")
    return requirements
