#!/usr/bin/env bash
# Node-agent benchmark: what `gcpilot serve` costs and how fast it shows a pause.
# Builds the Go workload of bench/serve/workload (stdlib only; ~10 GC/s each, nothing
# that stops the world outside GC) and runs bench/serve/driver.py, which, in one run:
# measures the agent idle; 50 workloads alone (their own CPU: the baseline); the
# agent watching them (~500 GC/s in all); then with Prometheus scraping /metrics every
# 1 s, a headless chromium on the dashboard and SSE clients; 200 timed GETs of
# /metrics; 100 more SSE clients; Prometheus at its default 15 s scrape interval.
# Agent CPU (utime+stime deltas of /proc/PID/stat) and RSS per phase, pause end ->
# SSE event at a client (sse_client.py), pause end -> visible to a Prometheus query
# (prom_poll.py). Prints progress on stderr and a Markdown table with PASS/FAIL
# against the targets on stdout; writes results.json, phases.csv, table.md, the raw
# latency CSVs and the logs to the output directory.
#
# Usage: bench/serve_bench.sh [--quick] [--out DIR] [--gcpilot PATH] [--procs N]
#                             [--gc-rate R] [--no-profile]
#   default   ~10 min (phases of 45-120 s, the 15 s Prometheus run, a perf profile)
#   --quick   ~2.5 min (phases of 15-30 s; the 15 s Prometheus delay is modelled
#             from the 1 s measurement instead of measured; no profile)
#   --out DIR where results go (default: /tmp/gcpilot-serve-bench-DATE)
#   --gcpilot PATH  the gcpilot binary (default: $GCPILOT, else build/gcpilot; copied
#             first, so a rebuild during the run changes nothing)
#   --procs N / --gc-rate R  workloads (default 50) and GC/s each aims at (default 10)
#   --no-profile  skip `perf record` of the agent at the end of the default run
# Needs root (eBPF), python3, the Go toolchain (/usr/lib/go-1.23), and for their rows
# prometheus and chromium (Debian packages; skipped with a note when missing) and perf.
# Everything it starts is stopped, and its temporary files removed, on exit or
# interrupt. A benchmark, not a test: it exits 0 whatever the numbers.
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_NAME=serve_bench
# shellcheck source=bench/lib.sh
source bench/lib.sh

GO=/usr/lib/go-1.23/bin/go
GCPILOT=${GCPILOT:-}
OUT=""
DRIVER_ARGS=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) DRIVER_ARGS+=(--quick) ;;
    --out) OUT=$2; shift ;;
    --gcpilot) GCPILOT=$2; shift ;;
    --procs) DRIVER_ARGS+=(--procs "$2"); shift ;;
    --gc-rate) DRIVER_ARGS+=(--gc-rate "$2"); shift ;;
    --no-profile) DRIVER_ARGS+=(--no-profile) ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
  shift
done

[[ $(id -u) -eq 0 ]] || die "needs root (eBPF uprobes); re-run as root"
[[ -x $GO ]] || die "Go 1.23 not found at $GO (scripts/setup.sh installs it)"
command -v python3 >/dev/null || die "python3 not found"
for tool in prometheus chromium perf; do
  command -v "$tool" >/dev/null || log "$tool not found: its part of the benchmark is skipped"
done

bench_out /tmp/gcpilot-serve-bench
bench_work /tmp/gcpilot-serve-bench-work
bench_gcpilot "$GCPILOT"
"$GCPILOT" serve --help >/dev/null 2>&1 || die "$GCPILOT_SRC has no 'serve' command"

log "building bench/serve/workload with $($GO version | cut -d' ' -f3)"
in_bg env GOPROXY=off GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0 \
  GOCACHE="$WORK/gocache" GOPATH="$WORK/gopath" \
  "$GO" build -C bench/serve/workload -o "$WORK/serveworkload" . ||
  die "building the workload failed"

log "output directory: $OUT"
python3 bench/serve/driver.py --gcpilot "$GCPILOT" --workload "$WORK/serveworkload" \
  --workdir "$WORK" --out "$OUT" --pidfile "$PIDFILE" "${DRIVER_ARGS[@]}" &
DRIVER_PID=$!
wait "$DRIVER_PID"
log "results in $OUT (results.json, phases.csv, table.md)"
