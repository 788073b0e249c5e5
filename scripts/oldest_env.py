"""Make ``build/oldest``: the oldest Python and the oldest marimo we claim, with
this project installed, for tests/test_oldest_claims.py.

Run by scripts/setup.sh. ``requires-python`` says 3.10 and the marimo floor is
pyproject's ``marimo>=X``; a user may have both at once, so the venv pairs them.
The interpreter is ``$JMP_OLDEST_PYTHON``, else the first Python 3.10 found:
``python3.10`` on PATH, pyenv's versions, ``uv python find 3.10``. Without one
it says so and the test reports itself skipped with that reason. Later runs
reuse the venv while pyproject.toml is unchanged (a stamp).
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from check_marimo_floor import floor as marimo_floor  # scripts/ is on sys.path when run as a script

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "build" / "oldest"
STAMP = TARGET / ".stamp"


def claimed_python() -> tuple[int, int]:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r'requires-python\s*=\s*">=\s*(\d+)\.(\d+)', text)
    if not match:
        sys.exit("oldest_env: no requires-python >=X.Y in pyproject.toml")
    return int(match.group(1)), int(match.group(2))


def version_of(python: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print(*sys.version_info[:2])"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    major, minor = out.stdout.split()
    return int(major), int(minor)


def find_python(wanted: tuple[int, int], uv: str) -> str | None:
    name = f"python{wanted[0]}.{wanted[1]}"
    candidates = [os.environ.get("JMP_OLDEST_PYTHON", ""), shutil.which(name) or ""]
    pyenv_root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates += sorted(glob.glob(f"{pyenv_root}/versions/{wanted[0]}.{wanted[1]}.*/bin/{name}"), reverse=True)
    found = subprocess.run([uv, "python", "find", f"{wanted[0]}.{wanted[1]}"], capture_output=True, text=True)
    if found.returncode == 0:
        candidates.append(found.stdout.strip())
    for candidate in candidates:
        # A pyenv shim exists for every version but runs only the selected one.
        if candidate and version_of(candidate) == wanted:
            return candidate
    return None


def main() -> int:
    wanted = claimed_python()
    uv = shutil.which("uv") or sys.exit("oldest_env: uv is not on PATH (run from scripts/setup.sh)")
    python = find_python(wanted, uv)
    if python is None:
        print(f"oldest_env: no Python {wanted[0]}.{wanted[1]} here; tests/test_oldest_claims.py will say it was skipped")
        return 0
    floor = marimo_floor()  # pyproject's marimo>=X, as check_marimo_floor.py reads it
    stamp = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + python.encode()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == stamp:
        print(f"oldest_env: {TARGET} is current (Python {wanted[0]}.{wanted[1]}, marimo {floor})")
        return 0
    shutil.rmtree(TARGET, ignore_errors=True)
    subprocess.run([uv, "venv", "--quiet", "--python", python, str(TARGET)], check=True)
    # The frontend is built by setup.sh already; the build hook would only redo it.
    env = dict(os.environ, SKIP_JUPYTER_BUILDER="1")
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", str(TARGET / "bin" / "python"), "-e", str(ROOT), f"marimo=={floor}"],
        check=True,
        env=env,
    )
    STAMP.write_text(stamp)
    print(f"oldest_env: {TARGET} made with Python {wanted[0]}.{wanted[1]} ({python}) and marimo {floor}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
