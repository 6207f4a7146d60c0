#!/usr/bin/env bash
# Measures the web application with 1,000,000 posts in the store:
#   - median and 95th-percentile latency of the stream page, a filtered stream, a search and the
#     dashboard under wrk on loopback (logged in, 2 threads, 8 connections, 20 s each);
#   - the time for a newly imported post to reach an open Server-Sent Events stream;
#   - the server's peak memory (VmHWM).
# Usage: scripts/bench-web.sh [WORKDIR] (default /tmp/switchboard-bench-web). Needs wrk
# (apt-get install -y wrk) and python3. Builds the release binary, unless BIN names another
# binary (to compare builds on the same store).
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="${1:-/tmp/switchboard-bench-web}"
POSTS_PER_NETWORK="${POSTS_PER_NETWORK:-333334}"
DURATION="${DURATION:-20s}"
PORT="${PORT:-18090}"
mkdir -p "$WORK"
DB="$WORK/web.db"
if [ -z "${BIN:-}" ]; then
  BIN=target/release/switchboard
  cargo build --release -p switchboard
fi
echo "machine load before the run: $(uptime)"
if [ ! -f "$DB" ]; then
  /usr/bin/time -v "$BIN" demo --no-serve --posts "$POSTS_PER_NETWORK" --db "$DB" 2> "$WORK/import.time" | tail -12
  grep -E "Elapsed|Maximum resident" "$WORK/import.time"
fi
"$BIN" stats --db "$DB" | head -3
PASSWORD=bench-password-123
"$BIN" user add bench --role officer --password "$PASSWORD" --db "$DB" 2>/dev/null || true
"$BIN" serve --db "$DB" --addr "127.0.0.1:$PORT" > "$WORK/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 1 100); do curl -fs "$BASE/healthz" >/dev/null && break; sleep 0.1; done
JAR="$WORK/cookies.txt"
rm -f "$JAR"
TOKEN=$(curl -fs -c "$JAR" "$BASE/login" | grep -o 'name="csrf" value="[0-9a-f]*' | cut -d'"' -f4)
curl -fs -o /dev/null -b "$JAR" -c "$JAR" --data "csrf=$TOKEN&name=bench&password=$PASSWORD" "$BASE/login"
SESSION=$(awk '$6 == "sb_session" {print $7}' "$JAR")
[ -n "$SESSION" ] || { echo "login failed" >&2; exit 1; }
# A monitor, so the monitor filter has something to walk.
CSRF=$(curl -fs -b "$JAR" "$BASE/settings/monitors" | grep -o 'name="csrf" value="[0-9a-f]*' | head -1 | cut -d'"' -f4)
curl -fs -o /dev/null -b "$JAR" --data-urlencode "csrf=$CSRF" --data-urlencode "name=Maternity" \
  --data-urlencode "query=maternity OR midwife*" "$BASE/settings/monitors" || true
cat > "$WORK/p95.lua" <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d errors=%d p50_ms=%.1f p95_ms=%.1f p99_ms=%.1f rps=%.0f\n",
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6)))
end
LUA
echo
echo "page | first request (cold) | under load: p50, p95, p99, requests/s, server CPU per request"
for page in \
  "/stream" \
  "/stream?sentiment=negative&intent=complaint&network=x" \
  "/stream?monitor=1" \
  "/search?q=%22A%26E%22+AND+wait*" \
  "/attention" \
  "/dashboard?period=24h" \
  "/dashboard?period=7d" \
  "/api/stream?q=parking"; do
  cold=$(curl -s -o /dev/null -w "%{time_total}" -H "Cookie: sb_session=$SESSION" "$BASE$page")
  cpu_before=$(awk '{print $14 + $15}' "/proc/$SERVER/stat")
  result=$(wrk -t2 -c8 -d"$DURATION" -s "$WORK/p95.lua" -H "Cookie: sb_session=$SESSION" "$BASE$page" | grep RESULT)
  cpu_after=$(awk '{print $14 + $15}' "/proc/$SERVER/stat")
  requests=$(echo "$result" | sed 's/.*requests=\([0-9]*\).*/\1/')
  # The server's CPU time per request (clock ticks of 10 ms): less sensitive to other load on
  # the machine than the latencies.
  cpu=$(awk -v t=$((cpu_after - cpu_before)) -v n="$requests" 'BEGIN {printf "%.2f", n ? t * 10 / n : 0}')
  echo "$page | cold ${cold}s | $result server_cpu_ms_per_request=$cpu"
done
echo
python3 scripts/sse_arrival.py "$BASE" "$SESSION" "$DB" "$BIN" "$WORK"
echo "server peak memory: $(grep VmHWM /proc/$SERVER/status)"
echo "machine load after the run: $(uptime)"
