#!/usr/bin/env bash
# The desk's typical page-change time, as a person sees it: the release binary serving the demo
# database (a fortnight of traffic about the fictional trust, POSTS per network), and Debian's
# headless Chromium (default settings, 1366x900) clicking through every item of the navigation
# ROUNDS times, each page change read from the browser's Navigation Timing (click to the end of
# the new page's load). Prints per-page and overall medians.
# Usage: scripts/bench-desk.sh [WORKDIR] (default /tmp/switchboard-bench-desk). Needs chromium,
# chromedriver and python3. BIN names another binary to compare builds on the same database.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="${1:-/tmp/switchboard-bench-desk}"
POSTS="${POSTS:-20000}"
ROUNDS="${ROUNDS:-10}"
PORT="${PORT:-18190}"
mkdir -p "$WORK"
DB="$WORK/desk.db"
if [ -z "${BIN:-}" ]; then
  BIN=target/release/switchboard
  cargo build --release -p switchboard
fi
echo "machine load before the run: $(uptime)"
if [ ! -f "$DB" ]; then
  "$BIN" demo --no-serve --posts "$POSTS" --db "$DB" | tail -3
fi
PASSWORD=bench-password-123
"$BIN" user add bench --role admin --password "$PASSWORD" --db "$DB" 2>/dev/null || true
"$BIN" serve --db "$DB" --addr "127.0.0.1:$PORT" > "$WORK/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 1 100); do curl -fs "$BASE/healthz" >/dev/null && break; sleep 0.1; done
# Let the dashboards warm up, as on a server that has been running.
sleep 5
python3 scripts/bench_desk.py "$BASE" bench "$PASSWORD" "$ROUNDS"
echo "machine load after the run: $(uptime)"
