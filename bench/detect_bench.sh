#!/usr/bin/env bash
# Detection benchmark (issue 5): how long from the start of a GC jitter pattern to
# gcpilot's finding, and from the first long pause to the breaker's /ready 503,
# against a Prometheus-alert pipeline over gcpilot's own /metrics, in the same run.
# Builds the test programs (tests/testprogs, Go 1.23) and runs bench/detect/driver.py:
# two Prometheus servers (15 s and 1 s scrape + evaluation interval) with one PromQL
# alerting rule per detector (bench/detect/rules.py), then per pattern workload
# (storm, pausespike, assist, stwreasons, limitthrash, leak, breakersvc) a fresh
# `gcpilot serve --pid`, the workload's start gate opened at a chosen phase of the
# 15 s scrape cycle, and the times until the SSE `finding` event, /ready 503 and each
# alert firing. The `steady` service runs alongside the whole time as a control.
# Prints a Markdown table on stdout; writes table.md, results.json, the rule files
# and the logs to the output directory.
#
# Usage: bench/detect_bench.sh [--quick] [--reps N] [--only a,b] [--out DIR]
#                              [--gcpilot PATH]
#   default  3 runs of storm, pausespike and breakersvc, 2 of assist, stwreasons
#            and limitthrash, 1 of leak (~17 min on a loaded 2-vCPU host)
#   --quick  1 run of each, no leak (the slowest: ~2 min per run) (~7 min)
#   --reps N every run N times; --only NAMES only these runs (e.g. storm,breakersvc)
#   --out DIR  results (default /tmp/gcpilot-detect-bench-DATE)
#   --gcpilot PATH  the gcpilot binary (default: $GCPILOT, else build/gcpilot; copied
#             first, so a rebuild during the run changes nothing)
# Needs root (eBPF), python3, prometheus (Debian package) and Go 1.23
# (/usr/lib/go-1.23). Each run holds the eBPF tests' lock while its agent runs.
# Everything it starts is stopped on exit or interrupt. A benchmark, not a test:
# it exits 0 whatever the numbers.
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_NAME=detect_bench
# shellcheck source=bench/lib.sh
source bench/lib.sh

GO_VERSION=1.23
GCPILOT=${GCPILOT:-}
OUT=""
DRIVER_ARGS=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) DRIVER_ARGS+=(--quick) ;;
    --reps) DRIVER_ARGS+=(--reps "$2"); shift ;;
    --only) DRIVER_ARGS+=(--only "$2"); shift ;;
    --out) OUT=$2; shift ;;
    --gcpilot) GCPILOT=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
  shift
done

[[ $(id -u) -eq 0 ]] || die "needs root (eBPF uprobes); re-run as root"
[[ -x /usr/lib/go-$GO_VERSION/bin/go ]] || die "Go $GO_VERSION not found (scripts/setup.sh installs it)"
for tool in python3 prometheus; do
  command -v "$tool" >/dev/null || die "$tool not found (Debian package: $tool)"
done

bench_out /tmp/gcpilot-detect-bench
bench_work /tmp/gcpilot-detect-bench-work
bench_gcpilot "$GCPILOT"

# The test programs, in a cache kept between runs (tests/testprogs/build.sh only
# rebuilds what changed).
PROGS=${GCPILOT_BENCH_PROGS:-/tmp/gcpilot-bench-testprogs}
log "building tests/testprogs with Go $GO_VERSION into $PROGS"
in_bg env GO_VERSIONS=$GO_VERSION BUILD_TIMEOUT=300 bash tests/testprogs/build.sh "$PROGS" >/dev/null ||
  die "building tests/testprogs failed"

log "output directory: $OUT"
python3 bench/detect/driver.py --gcpilot "$GCPILOT" --progs "$PROGS/go$GO_VERSION" \
  --workdir "$WORK" --out "$OUT" --pidfile "$PIDFILE" "${DRIVER_ARGS[@]}" &
DRIVER_PID=$!
wait "$DRIVER_PID"
log "results in $OUT (table.md, results.json)"
