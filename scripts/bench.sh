#!/usr/bin/env bash
# Parse-throughput benchmark: builds gcpilot_parse_bench in a Release tree
# (build-bench/), runs it pinned to one core, and prints a Markdown table of
# the hand-written gctrace scanner against the std::regex baseline, with
# PASS/MISS against the targets (>= 2,000,000 lines/s, >= 300 MB/s, >= 20x
# the regex parser). MB = 10^6 bytes.
#
# Usage: scripts/bench.sh [extra gcpilot_parse_bench flags, e.g. --reps=20]
#        scripts/bench.sh --observers [bench/observer_bench.sh flags, e.g. --quick]
#          runs the observer-overhead benchmark instead (root; about 10 min by
#          default): what gcpilot watch, gctrace, an expvar scrape and a naive
#          bpftrace script cost a Go HTTP service under wrk load.
#        scripts/bench.sh --serve [bench/serve_bench.sh flags, e.g. --quick]
#          runs the node-agent benchmark instead (root; about 10 min by default):
#          what `gcpilot serve` costs watching 50 Go processes (~500 GC/s) with
#          Prometheus and dashboard/SSE clients, and pause -> client latencies.
#        scripts/bench.sh --detect [bench/detect_bench.sh flags, e.g. --quick]
#          runs the detection benchmark instead (root; about 17 min by default):
#          pattern start -> gcpilot's finding and first long pause -> /ready 503,
#          against PromQL alerts on gcpilot's /metrics (Prometheus at 15 s and 1 s).
#        scripts/bench.sh --attach [bench/attach_bench.sh flags, e.g. --out DIR]
#          runs the attach-cost benchmark instead (no root; a few minutes the
#          first time, to generate its 25 and 120 MB Go programs): parse +
#          layout + probe plan per Go binary, cold and cached, with peak RSS.
# Environment: GCPILOT_BENCH_CPU (core to pin to, default 1).
# Exit status: 0 when the benchmark ran (even with a MISS), 1 when the build
# failed or the two parsers disagreed on the corpus.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ${1:-} == --observers ]]; then
  shift
  exec bash bench/observer_bench.sh "$@"
fi
if [[ ${1:-} == --serve ]]; then
  shift
  exec bash bench/serve_bench.sh "$@"
fi
if [[ ${1:-} == --detect ]]; then
  shift
  exec bash bench/detect_bench.sh "$@"
fi
if [[ ${1:-} == --attach ]]; then
  shift
  exec bash bench/attach_bench.sh "$@"
fi

BUILD_DIR=build-bench
CPU=${GCPILOT_BENCH_CPU:-1}

log() { printf 'bench: %s\n' "$*" >&2; }

log "configuring ${BUILD_DIR}/ (Release)"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGCPILOT_TESTS=OFF \
  -DGCPILOT_BENCH=ON -DGCPILOT_FUZZ=OFF -DGCPILOT_SANITIZE=OFF >/dev/null
log "building gcpilot_parse_bench"
ninja -C "$BUILD_DIR" gcpilot_parse_bench >/dev/null

BENCH=("$BUILD_DIR/bench/gcpilot_parse_bench" "$@")
if command -v taskset >/dev/null 2>&1 && taskset -c "$CPU" true 2>/dev/null; then
  pinned="pinned to CPU $CPU"
  BENCH=(taskset -c "$CPU" "${BENCH[@]}")
elif command -v taskset >/dev/null 2>&1 && taskset -c 0 true 2>/dev/null; then
  pinned="pinned to CPU 0 (CPU $CPU not available)"
  BENCH=(taskset -c 0 "${BENCH[@]}")
else
  pinned="not pinned (taskset unavailable)"
fi
log "running (${pinned})"

out=$(mktemp)
trap 'rm -f "$out"' EXIT
if ! "${BENCH[@]}" >"$out"; then
  cat "$out" >&2
  log "gcpilot_parse_bench failed"
  exit 1
fi
echo
echo "gctrace parse throughput, one core (${pinned}), $(uname -m), $(date -u +%Y-%m-%d)"
echo
awk -F '\t' '
  # 1234567.8 -> "1,234,568"
  function commas(x,   s, r) {
    s = sprintf("%.0f", x); r = ""
    while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
    return s r
  }
  $1 == "result" {
    lps[$2] = $3 / $5; mbps[$2] = $4 / $5 / 1e6; nspl[$2] = $5 / $3 * 1e9; n[$2] = $3
  }
  END {
    if (!("scanner" in lps) || !("regex" in lps)) { print "bench: missing results" > "/dev/stderr"; exit 1 }
    speedup = lps["scanner"] / lps["regex"]
    print "| parser | lines/s | MB/s | ns/line | speedup vs regex |"
    print "|---|---:|---:|---:|---:|"
    printf "| gcpilot scanner (%s lines) | %s | %.0f | %.0f | %.1fx |\n", commas(n["scanner"]),
           commas(lps["scanner"]), mbps["scanner"], nspl["scanner"], speedup
    printf "| std::regex baseline (%s lines) | %s | %.1f | %.0f | 1.0x |\n", commas(n["regex"]),
           commas(lps["regex"]), mbps["regex"], nspl["regex"]
    print ""
    printf "Targets (scanner): >= 2,000,000 lines/s: %s | >= 300 MB/s: %s | >= 20x regex: %s\n",
           (lps["scanner"] >= 2e6 ? "PASS" : "MISS"), (mbps["scanner"] >= 300 ? "PASS" : "MISS"),
           (speedup >= 20 ? "PASS" : "MISS")
  }' "$out"
echo
grep '^#' "$out" | sed 's/^# */- /'
