#!/usr/bin/env bash
# Load soak (not in CI): the whole suite (`npm test`) N times back to back (default 3) while
# stress-ng keeps both cores busy, to find tests that lose races on a loaded machine. Installs
# Debian's stress-ng if it is missing (waiting for the dpkg lock), writes each run's log to
# test-results/soak/run-<i>.log and ends with one line per run and a total `N passed, N failed`.
# Usage: bash scripts/soak.sh [--runs N] [--cpu-load PERCENT]   (default 3 runs at 100 % on every core)
set -uo pipefail
cd "$(dirname "$0")/.."
RUNS=3
LOAD=100
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --cpu-load) LOAD="$2"; shift 2 ;;
    *) echo "usage: bash scripts/soak.sh [--runs N] [--cpu-load PERCENT]" >&2; exit 2 ;;
  esac
done
log() { printf '[soak] %s\n' "$*" >&2; }

if ! command -v stress-ng >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  log "installing stress-ng (Debian)"
  $SUDO apt-get -o DPkg::Lock::Timeout=300 -o APT::Lock::Timeout=300 update -qq >&2 || true
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -o APT::Lock::Timeout=300 install -y -qq --no-install-recommends stress-ng >&2 || {
    log "could not install stress-ng; install it by hand: sudo apt-get -o DPkg::Lock::Timeout=300 install -y stress-ng"; exit 1; }
fi

OUT=test-results/soak
rm -rf "$OUT"
mkdir -p "$OUT"
CORES=$(nproc)
# One CPU worker per core, for as long as the runs take (stopped below; --timeout is a safety net).
stress-ng --cpu "$CORES" --cpu-load "$LOAD" --timeout 4h --quiet &
STRESS=$!
trap 'kill "$STRESS" 2>/dev/null; wait "$STRESS" 2>/dev/null' EXIT
log "stress-ng: $CORES CPU worker(s) at $LOAD % (pid $STRESS); $RUNS run(s) of npm test"

total_passed=0
total_failed=0
summary=()
for i in $(seq 1 "$RUNS"); do
  started=$(date +%s)
  npm test >"$OUT/run-$i.log" 2>&1
  code=$?
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$OUT/run-$i.log" | tail -1)
  [ -n "$line" ] || line="0 passed, 1 failed"
  p=${line%% passed*}
  f=${line#*passed, }; f=${f%% failed*}
  total_passed=$((total_passed + p))
  total_failed=$((total_failed + f))
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  failures=$(grep -E '^\s+[0-9]+\) ' "$OUT/run-$i.log" | sed 's/^ *//' | sort -u | head -5 | tr '\n' ';')
  summary+=("run $i: $line (exit $code, $(( $(date +%s) - started )) s, load $load)${failures:+ — $failures}")
  log "${summary[-1]}"
done

echo
for s in "${summary[@]}"; do echo "$s"; done
echo "${total_passed} passed, ${total_failed} failed"
[ "$total_failed" -eq 0 ]
