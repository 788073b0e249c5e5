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

# Each stage's whole output goes to .test-logs/<stage>.log as well as the screen;
# the run goes on after a failing stage, and ends with one summary.
LOGS="$ROOT/.test-logs"
mkdir -p "$LOGS"
summary=()
total_passed=0
total_failed=0
failed_stages=0

count() {  # count <log> <word>: the last "<N> <word>" figure a runner printed
  grep -Eo "[0-9]+ $2" "$1" | tail -n 1 | grep -Eo '^[0-9]+' || echo 0
}

stage() {  # stage <name> <title> <kind: pytest|jest|playwright|check> <command...>
  local name=$1 title=$2 kind=$3
  shift 3
  local log="$LOGS/$name.log" status passed failed
  echo; echo "==> $title"
  set +e
  "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  set -e
  case "$kind" in
    pytest) passed=$(count "$log" passed); failed=$(( $(count "$log" failed) + $(count "$log" error) + $(count "$log" errors) )) ;;
    jest) passed=$(grep -E '^Tests:' "$log" | grep -Eo '[0-9]+ passed' | grep -Eo '^[0-9]+' || echo 0)
          failed=$(grep -E '^Tests:' "$log" | grep -Eo '[0-9]+ failed' | grep -Eo '^[0-9]+' || echo 0) ;;
    playwright) passed=$(count "$log" passed); failed=$(( $(count "$log" failed) + $(count "$log" flaky) )) ;;
    *) if [ "$status" = 0 ]; then passed=1; failed=0; else passed=0; failed=1; fi ;;
  esac
  passed=${passed:-0}; failed=${failed:-0}
  if [ "$status" != 0 ] && [ "$failed" = 0 ]; then failed=1; fi  # it failed without saying how
  [ "$status" = 0 ] || failed_stages=$((failed_stages + 1))
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  summary+=("$(printf '%-28s %5s passed, %s failed%s' "$title" "$passed" "$failed" "$([ "$status" = 0 ] || echo "   <- exit $status, see $log")")")
}

stage twins "twins --check of demo/" check \
  env JUPYTER_MARIMO_PROXY_STATE_DIR="$(mktemp -d)" python -m jupyter_marimo_proxy twins demo --check --quiet
stage pytest "Python tests (pytest)" pytest python -m pytest -q -ra -p no:cacheprovider
stage benchmarks "Benchmarks, smoke run" check python -m benchmarks --smoke
stage jest "Frontend tests (jest)" jest npm test --silent
stage browser "Browser tests (Chromium)" playwright bash ui-tests/run.sh

echo
echo "==> Summary (logs in $LOGS)"
printf '%s\n' "${summary[@]}"
echo "${total_passed} passed, ${total_failed} failed"
[ "$failed_stages" = 0 ]
