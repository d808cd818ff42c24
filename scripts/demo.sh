#!/usr/bin/env bash
# The main job: installs what is missing, builds gcpilot and the bundled
# example services, then shows the three ways in:
#  1. `gcpilot run` of the "steady" example service (eBPF when run as root:
#     the program runs unchanged; live summary every second, report at end);
#  2. `gcpilot watch` of every Go process while three example services run
#     (the live table: pauses, non-GC stops with reasons, alloc, heap, GOGC);
#  3. the GC-trace path: `gcpilot run --source=gctrace --keep-trace`, whose
#     saved stderr is then analysed offline by `gcpilot ingest`.
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
./build/gcpilot ingest "$OUT/stderr.log" | head -12
echo "..."
echo "Recorded events of step 1: $OUT/events.jsonl  (try: ./build/gcpilot report $OUT/events.jsonl)"
