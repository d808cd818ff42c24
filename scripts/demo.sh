#!/usr/bin/env bash
# The main job: installs what is missing, builds gcpilot and the bundled
# example services, then runs the "steady" example service under
# `gcpilot run` (live summary every second, report at the end), and feeds
# the trace it recorded to `gcpilot ingest` to show the offline report.
# Usage: scripts/demo.sh [SECONDS]   (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
bash scripts/setup.sh
bash scripts/build.sh >/dev/null
GO=$(ls -d build/testprogs/go1.* | sort -V | tail -1)
OUT=$(mktemp -d /tmp/gcpilot-demo-XXXXXX)
echo "== gcpilot run -- $GO/steady -duration ${SECS}s   (example service, $(basename "$GO"))"
./build/gcpilot run --keep-trace --record "$OUT/events.jsonl" -- \
  "$GO/steady" -duration "${SECS}s" -stdout-every 0 2> >(tee "$OUT/stderr.log" >&2)
sleep 0.2
echo
echo "== gcpilot ingest $OUT/stderr.log   (the same trace, analysed offline)"
./build/gcpilot ingest "$OUT/stderr.log" | head -20
echo "..."
echo "Recorded events: $OUT/events.jsonl  (try: ./build/gcpilot report $OUT/events.jsonl)"
