#!/usr/bin/env bash
# Run the browser tests (Galata/Playwright, system Chromium).
#
#   bash ui-tests/run.sh [playwright test args...]
#
# Needs the project installed in a Python environment whose bin/ is on PATH
# (jupyter, jupyter-server-proxy, marimo, jupyter-marimo-proxy). If the
# repository has a .venv, its bin/ is put first on PATH.
# Playwright starts and stops JupyterLab itself (see playwright.config.ts).
# The console output (one line per test) is also written to
# ui-tests/logs/ui-tests.log; Jupyter's own log goes to ui-tests/logs/jupyter.log.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"

TOP="$(git rev-parse --show-toplevel 2>/dev/null || dirname "$HERE")"
if [ -d "$TOP/.venv/bin" ]; then
  export PATH="$TOP/.venv/bin:$PATH"
fi

if ! command -v jupyter >/dev/null 2>&1; then
  echo "ui-tests: 'jupyter' is not on PATH; activate the project's venv first" >&2
  exit 2
fi

CHROMIUM="${UI_TESTS_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  echo "ui-tests: no Chromium at $CHROMIUM (Debian: apt-get install chromium;" \
    "or set UI_TESTS_CHROMIUM). Playwright cannot download its own here." >&2
  exit 2
fi

if [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund
fi

mkdir -p logs
start=$(date +%s)
status=0
npx playwright test "$@" 2>&1 | tee logs/ui-tests.log || status=$?
# With pipefail, status is playwright's exit code (tee does not fail).
echo "ui-tests: finished in $(( $(date +%s) - start ))s (exit $status); log: $HERE/logs/ui-tests.log"
exit "$status"
