"""How many times each fault test runs: 3 in the normal test command, more in a stress run.

    JMP_REPEAT=10 .venv/bin/python -m pytest tests/test_process_faults.py tests/test_install_integrity.py
"""

from __future__ import annotations

import os

REPEAT = int(os.environ.get("JMP_REPEAT", "3"))
ROUNDS = [f"round{n + 1}" for n in range(REPEAT)]
