#!/usr/bin/env bash
# Set up a development environment from a fresh clone, offline except for the
# package registries: a project venv (.venv) with JupyterLab, jupyter-server-proxy,
# marimo and this extension (editable), and the built frontend.
# Idempotent: a second run only redoes what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${PYTHON:-python3}

step() { printf '\n==> %s\n' "$*"; }

if [ ! -x .venv/bin/python ]; then
  step "Creating the project venv (.venv) with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
export PATH="$ROOT/.venv/bin:$PATH"
if [ ! -x .venv/bin/uv ]; then
  step "Installing uv into .venv"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check uv
fi

# Python dependencies first: building the frontend needs `jupyter labextension`.
step "Installing Python dependencies"
uv pip install --quiet --python .venv/bin/python "jupyterlab>=4,<5" hatchling hatch-nodejs-version hatch-jupyter-builder

step "Building the frontend (npm ci, npm run build:prod)"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build:prod

step "Installing jupyter-marimo-proxy (editable) with its test dependencies"
# The install copies the built labextension into .venv/share. A symlink left
# there by `jupyter labextension develop` would make it write into the build
# output instead (and the next install would then fail on a duplicate file).
share=.venv/share/jupyter/labextensions/jupyter-marimo-proxy
if [ -L "$share" ]; then rm "$share"; fi
rm -f jupyter_marimo_proxy/labextension/install.json
# The frontend is built above; the build hook would only redo it.
SKIP_JUPYTER_BUILDER=1 uv pip install --quiet --python .venv/bin/python \
  --reinstall-package jupyter-marimo-proxy -e ".[test]"

step "configurable-http-proxy for the JupyterHub tests (npm ci in tests/hub)"
if [ ! -d tests/hub/node_modules ] || [ tests/hub/package-lock.json -nt tests/hub/node_modules/.package-lock.json ]; then
  (cd tests/hub && npm ci --no-audit --no-fund)
fi

step "Checking the oldest marimo pyproject.toml claims against our auth scheme (once per floor)"
.venv/bin/python scripts/check_marimo_floor.py

step "The oldest Python and marimo we claim, with this project (build/oldest, once per pyproject.toml)"
.venv/bin/python scripts/oldest_env.py

step "Installed"
jupyter server extension list 2>&1 | grep -E "jupyter_marimo_proxy|jupyter_server_proxy" || true
jupyter labextension list 2>&1 | grep -E "jupyter-marimo-proxy" || true
