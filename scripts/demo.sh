#!/usr/bin/env bash
# Set up (see setup.sh) and start JupyterLab with the extension on the demo folder.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
args=(--ServerApp.root_dir="$PWD/demo" --no-browser)
# Containers and CI machines often run as root; Jupyter refuses that unless told.
[ "$(id -u)" = 0 ] && args+=(--allow-root)
exec jupyter lab "${args[@]}" "$@"
