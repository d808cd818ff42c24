#!/usr/bin/env bash
# Observer-overhead benchmark (issue 3): what watching a Go service's GC costs the
# service. Builds the Go HTTP service of bench/observers/service and the `steady`
# test program, then runs bench/observers/driver.py, which loads the service with wrk
# on 127.0.0.1 and switches each observer (gcpilot watch, GODEBUG=gctrace=1, an
# expvar scrape every second, a naive two-probe bpftrace script) on and off in
# alternating ABBA windows inside one service process, with A/A controls for the
# noise floor, then measures `gcpilot watch` on 50 processes. Prints a Markdown table
# with PASS/FAIL against the targets.
#
# Usage: bench/observer_bench.sh [--quick | --long] [--pairs N] [--measure S]
#                                [--go 1.21|1.22|1.23] [--gcpilot PATH]
#                                [--configs a,b,...] [--json PATH] [--nice N]
#                                [--gomaxprocs N]
#   default  10 ABBA pairs of 3 s windows per config (~10 min in all)
#   --quick  4 pairs of 2 s windows, 15 s for the 50-process run (~3 min)
#   --long   20 pairs of 4 s windows (~25 min)
#   --nice N  run the service, wrk and the observers at nice N (default 0; e.g. -10
#             keeps other work on a shared host from descheduling the service inside
#             its GC stops, which otherwise dominates pause means)
#   --gomaxprocs N  the service's GOMAXPROCS (default 1: wrk gets the other CPU of a
#             2-vCPU host; 0 = runtime default)
#   --gcpilot PATH  the gcpilot binary (default: build/gcpilot, copied first so a
#                   rebuild during the run cannot change it; built with
#                   scripts/build.sh when missing)
# Needs root (uprobes, kernel.bpf_stats_enabled), wrk, bpftrace, bpftool, python3
# and the Go toolchain (/usr/lib/go-VERSION). Everything it starts is stopped, and the
# sysctl restored, on exit or interrupt.
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_NAME=observer_bench
# shellcheck source=bench/lib.sh
source bench/lib.sh

GO_VERSION=1.23
GCPILOT=""
DRIVER_ARGS=()
PAIRS=10 MEASURE=3 SETTLE=1 FIFTY_SECONDS=30 NICE=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) PAIRS=4 MEASURE=2 SETTLE=0.7 FIFTY_SECONDS=15 ;;
    --long) PAIRS=20 MEASURE=4 SETTLE=1 FIFTY_SECONDS=60 ;;
    --pairs) PAIRS=$2; shift ;;
    --measure) MEASURE=$2; shift ;;
    --go) GO_VERSION=$2; shift ;;
    --nice) NICE=$2; shift ;;
    --gomaxprocs) DRIVER_ARGS+=(--gomaxprocs "$2"); shift ;;
    --gcpilot) GCPILOT=$2; shift ;;
    --configs) DRIVER_ARGS+=(--configs "$2"); shift ;;
    --json) DRIVER_ARGS+=(--json "$2"); shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
  shift
done
[[ $PAIRS =~ ^[0-9]+$ && $PAIRS -ge 1 ]] || die "--pairs must be a positive integer"

[[ $(id -u) -eq 0 ]] || die "needs root (eBPF uprobes and sysctl kernel.bpf_stats_enabled); re-run as root"
GO=/usr/lib/go-$GO_VERSION/bin/go
[[ -x $GO ]] || die "Go $GO_VERSION not found at $GO (scripts/setup.sh installs it)"
for tool in wrk bpftrace bpftool python3 sysctl; do
  command -v "$tool" >/dev/null || die "$tool not found (scripts/setup.sh installs wrk and bpftrace)"
done

OLD_STATS=$(sysctl -n kernel.bpf_stats_enabled)
bench_cleanup_hook() {
  sysctl -q -w kernel.bpf_stats_enabled="$OLD_STATS" >/dev/null || log "could not restore kernel.bpf_stats_enabled=$OLD_STATS"
}
bench_work /tmp/gcpilot-observer-bench
bench_gcpilot "$GCPILOT"

log "building the service and the steady test program with Go $GO_VERSION"
export GOPROXY=off GOTOOLCHAIN=local GOFLAGS= CGO_ENABLED=0 GOCACHE=$WORK/gocache GOPATH=$WORK/gopath
in_bg env GO111MODULE=off "$GO" build -C bench/observers/service -o "$WORK/service" main.go ||
  die "building the service failed"
in_bg env GO_VERSIONS="$GO_VERSION" BUILD_TIMEOUT=300 bash tests/testprogs/build.sh "$WORK/testprogs" >/dev/null ||
  die "building tests/testprogs failed"
STEADY=$WORK/testprogs/go$GO_VERSION/steady

sysctl -q -w kernel.bpf_stats_enabled=1 >/dev/null
log "kernel.bpf_stats_enabled=1 for the run (was $OLD_STATS; restored at exit)"
log "running: $PAIRS ABBA pairs of ${MEASURE} s windows per config"

python3 bench/observers/driver.py \
  --service "$WORK/service" --gcpilot "$GCPILOT" --workdir "$WORK" --pidfile "$PIDFILE" \
  --fifty-bin "$STEADY" --fifty-seconds "$FIFTY_SECONDS" \
  --pairs "$PAIRS" --measure "$MEASURE" --settle "$SETTLE" --nice "$NICE" "${DRIVER_ARGS[@]}" &
DRIVER_PID=$!
wait "$DRIVER_PID"
