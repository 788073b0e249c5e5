#!/usr/bin/env bash
# Set up (see setup.sh) and run every test: Python (pytest), frontend (jest),
# browser (Galata/Playwright in Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "==> Installing Chromium for the browser tests (apt-get)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "The browser tests need Chromium at /usr/bin/chromium (Debian: apt-get install chromium)." >&2
    exit 1
  fi
fi

bash scripts/setup.sh
export PATH="$ROOT/.venv/bin:$PATH"

echo; echo "==> Twin notebooks of demo/ in step and computing the same (twins --check)"
JUPYTER_MARIMO_PROXY_STATE_DIR="$(mktemp -d)" python -m jupyter_marimo_proxy twins demo --check --quiet 2>/dev/null

echo; echo "==> Python tests (pytest)"
python -m pytest -ra
echo; echo "==> Benchmarks, smoke run (one repetition, small sizes; no goal is asserted)"; python -m benchmarks --smoke

echo; echo "==> Frontend tests (jest)"
npm test

echo; echo "==> Browser tests (Galata/Playwright, Chromium)"
bash ui-tests/run.sh
