#!/usr/bin/env bash
# The main job: installs what is missing, builds gcpilot and the bundled
# example services, then shows the three ways in:
#  1. `gcpilot run` of the "steady" example service (eBPF when run as root:
#     the program runs unchanged; live summary every second, report at end);
#  2. `gcpilot watch` of every Go process while three example services run
#     (the live table: pauses, non-GC stops with reasons, alloc, heap, GOGC);
#  3. the GC-trace path: `gcpilot run --source=gctrace --keep-trace`, whose
#     saved stderr is then analysed offline by `gcpilot ingest`;
#  4. the node agent: `gcpilot serve --store` with two example services, what
#     its JSON API and Prometheus /metrics say, then `gcpilot history`.
# Usage: scripts/demo.sh [SECONDS]   (default 10: length of step 1)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
bash scripts/setup.sh
bash scripts/build.sh >/dev/null
GO=$(ls -d build/testprogs/go1.* | sort -V | tail -1)
OUT=$(mktemp -d /tmp/gcpilot-demo-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

echo "== 1. gcpilot run -- $GO/steady -duration ${SECS}s   (example service, $(basename "$GO"))"
./build/gcpilot run --record "$OUT/events.jsonl" -- "$GO/steady" -duration "${SECS}s" -stdout-every 0
echo

echo "== 2. gcpilot watch --duration 6   (every Go process; three example services running)"
"$GO/steady" -duration 8s -stdout-every 0 >/dev/null 2>&1 & pids+=($!)
"$GO/stwreasons" -duration 8s -stdout-every 0 >/dev/null 2>&1 & pids+=($!)
GOGC=50 GOMEMLIMIT=256MiB "$GO/storm-stripped" -duration 8s -rate-mbps 200 -stdout-every 0 \
  >/dev/null 2>&1 & pids+=($!)
./build/gcpilot watch --duration 6 --interval 3 || echo "(gcpilot watch needs root or CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE)"
echo

echo "== 3. gcpilot run --source=gctrace --keep-trace -- $GO/steady -duration 5s, then ingest its stderr"
./build/gcpilot run --source=gctrace --keep-trace --interval 0 -- \
  "$GO/steady" -duration 5s -stdout-every 0 2>"$OUT/stderr.log" >/dev/null
./build/gcpilot ingest "$OUT/stderr.log" | sed -n '1,12p'
echo "..."
echo

echo "== 4. gcpilot serve --store (node agent: dashboard, /metrics, JSON API), then gcpilot history"
if [ "$(id -u)" -eq 0 ]; then
  "$GO/steady" -duration 12s -stdout-every 0 >/dev/null 2>&1 & pids+=($!)
  "$GO/stwreasons" -duration 12s -stdout-every 0 >/dev/null 2>&1 & pids+=($!)
  svc_pids="--pid ${pids[-2]} --pid ${pids[-1]}"
  # shellcheck disable=SC2086
  ./build/gcpilot serve --listen 127.0.0.1:0 --store "$OUT/history.db" $svc_pids --duration 8 \
    2>"$OUT/serve.err" & serve=$!
  port=
  for _ in $(seq 100); do
    port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$OUT/serve.err")
    [ -n "$port" ] && break
    sleep 0.1
  done
  sleep 5
  echo "dashboard: http://127.0.0.1:$port/   (open it in a browser while the agent runs)"
  echo "-- /api/v1/processes (last 10 s per process):"
  curl -s "http://127.0.0.1:$port/api/v1/processes" | python3 -c '
import json, sys
for p in json.load(sys.stdin)["processes"]:
    w = p["window"]
    print("  pid %-7d %-12s %-10s health=%-5s GC/s %.1f  STW p99 %.3f ms  non-GC stops %d  alloc %.1f MB/s" % (
        p["pid"], p["comm"], p["go_version"], p["health"], w["gcs_per_sec"], w["pause_ns"]["p99"] / 1e6,
        w["other_stops"]["count"], w["alloc_bytes_per_sec"] / 1e6))'
  echo "-- /metrics (a few series):"
  curl -s "http://127.0.0.1:$port/metrics" | grep -E '^gcpilot_(gc_cycles_total|agent_processes\{)' | sed -n '1,4p'
  wait "$serve" || true
  sed -n 's/^/  /p' "$OUT/serve.err" | tail -2
  echo "-- gcpilot history --store $OUT/history.db --since 5m"
  ./build/gcpilot history --store "$OUT/history.db" --since 5m
else
  echo "(gcpilot serve needs root or CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE: skipped)"
fi
echo "Recorded events of step 1: $OUT/events.jsonl  (try: ./build/gcpilot report $OUT/events.jsonl)"
