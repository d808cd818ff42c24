#!/usr/bin/env bash
# Tuner benchmark: the GC CPU and memory change each tuner policy brings on
# the example workloads, side by side, measured (not modelled).
#
# For every (workload, policy) pair it runs tests/e2e/tuner_ab.sh: the
# workload (tests/testprogs/tunable, stdlib Go) in a memory cgroup with a
# limit, `gcpilot tune --pid --policy P` on it, then the workload again with
# the recommended GOGC / GOMEMLIMIT in a fresh cgroup with the same limit;
# and prints one Markdown row per pair: the recommendation, and before ->
# after for GC rate, GC CPU share (the runtime's own /cpu/classes/gc), heap
# peak (/gc/heap/goal), the cgroup's peak usage and OOM kills, plus the
# tuner's prediction for GC CPU.
#
# Usage: bench/tuner_bench.sh [--quick] [--out DIR] [--gcpilot PATH]
#   default  3 workloads x 3 policies, 20 s per run (~8 min)
#   --quick  2 workloads x 3 policies, 12 s per run (~3 min)
#   --out DIR       results (default /tmp/gcpilot-tuner-bench-DATE): per pair
#                   the tuner_ab.sh files, and table.md
#   --gcpilot PATH  the gcpilot binary (default $GCPILOT, else build/gcpilot)
# Needs root (eBPF, cgroups), python3, Go 1.19+ (/usr/lib/go-1.2x). A benchmark,
# not a test: it exits 0 whatever the numbers. Every cgroup it creates is
# removed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
log() { printf 'tuner_bench: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

GCPILOT=${GCPILOT:-$ROOT/build/gcpilot}
OUT=/tmp/gcpilot-tuner-bench-$(date +%Y%m%d-%H%M%S)
QUICK=0
while [[ $# -gt 0 ]]; do
    case $1 in
        --quick) QUICK=1 ;;
        --out) OUT=$2; shift ;;
        --gcpilot) GCPILOT=$2; shift ;;
        *) die "unknown argument: $1" ;;
    esac
    shift
done
[[ $(id -u) == 0 ]] || die "needs root (eBPF and cgroups)"
[[ -x $GCPILOT ]] || die "no gcpilot binary at $GCPILOT (build it, or --gcpilot PATH)"
command -v python3 >/dev/null || die "needs python3"
mkdir -p "$OUT"
cp "$GCPILOT" "$OUT/gcpilot"

# The workload, built with the newest installed Go.
for v in 1.23 1.22 1.21 1.19; do
    [[ -x /usr/lib/go-$v/bin/go ]] && { GOV=$v; break; }
done
[[ -n ${GOV:-} ]] || die "no Go toolchain in /usr/lib/go-1.2x"
GO_VERSIONS=$GOV tests/testprogs/build.sh "$OUT/progs" >"$OUT/build.log" 2>&1 ||
    die "building the workload failed: see $OUT/build.log"
PROG=$OUT/progs/go$GOV/tunable

# workload name | cgroup limit (MB) | workload flags
WORKLOADS=(
    "roomy:64MB-live,80MB/s,512MB-limit|512|-live-mb 64 -alloc-mbps 80"
    "tight:96MB-live,40MB/s,256MB-limit|256|-live-mb 96 -alloc-mbps 40"
    "small:8MB-live,30MB/s,128MB-limit|128|-live-mb 8 -alloc-mbps 30"
)
RUN_S=20
if [[ $QUICK == 1 ]]; then
    WORKLOADS=("${WORKLOADS[@]:0:2}")
    RUN_S=12
fi
POLICIES=(pause-deviation memory-headroom node-pressure)

row() {  # $1: result dir -> a Markdown row (without the first two cells)
    python3 - "$1" <<'PY'
import json, os, sys
d = sys.argv[1]
def load(n):
    try:
        return json.load(open(os.path.join(d, n)))
    except Exception:
        return None
def cg(n):
    v = {}
    try:
        for line in open(os.path.join(d, n)):
            k, x = line.split()
            v[k] = int(x)
    except Exception:
        pass
    return v
t, b, a = load("tune.json"), load("before.json"), load("after.json")
recs = [r for r in (t or {}).get("recommendations", []) if "gogc" in r]
if not recs:
    err = [r.get("error", "") for r in (t or {}).get("recommendations", [])]
    print("| no recommendation: %s | | | | | |" % ("; ".join(err) or open(os.path.join(d, "tune.err")).read().strip()[:120]))
    sys.exit()
r = recs[0]
mb = lambda x: "%.0f" % (x / 1048576.0)
rec = "GOGC %d->%d, limit %s" % (r["current"]["gogc"], r["gogc"], "none" if r["memory_limit_bytes"] is None else mb(r["memory_limit_bytes"]) + " MB")
if not b or not a:
    print("| %s | run failed | | | | |" % rec)
    sys.exit()
cb, ca = cg("before.cg"), cg("after.cg")
e = r["effect"]
print("| %s | %.2f -> %.2f | %.1f%% -> %.1f%% (pred. %.1f%% -> %.1f%%) | %s -> %s | %s -> %s | %d / %d |" % (
    rec, b["gcs_per_sec"], a["gcs_per_sec"], b["gc_cpu_share"] * 100, a["gc_cpu_share"] * 100,
    e["gc_cpu_share"]["before"] * 100, e["gc_cpu_share"]["after"] * 100,
    mb(b["heap_peak_bytes"]), mb(a["heap_peak_bytes"]),
    mb(cb.get("peak", -1)), mb(ca.get("peak", -1)), cb.get("oom_kill", -1), ca.get("oom_kill", -1)))
PY
}

TABLE=$OUT/table.md
{
    echo "| workload | policy | recommendation | GC/s before -> after | GC CPU before -> after | heap peak MB | cgroup peak MB | OOM kills b/a |"
    echo "|---|---|---|---|---|---|---|---|"
} >"$TABLE"
for w in "${WORKLOADS[@]}"; do
    IFS='|' read -r name limit flags <<<"$w"
    for p in "${POLICIES[@]}"; do
        dir=$OUT/${name%%:*}-$p
        log "$name / $p (2 runs of ${RUN_S}s)"
        # shellcheck disable=SC2086
        # Under the eBPF tests' lock, so a concurrent e2e run's probe checks
        # never see this run's probes.
        RUN_S=$RUN_S TUNE_WATCH=8 flock /tmp/gcpilot-ebpf-tests.lock \
            tests/e2e/tuner_ab.sh "$OUT/gcpilot" "$PROG" "$p" "$limit" "$dir" \
            $flags >"$dir.log" 2>&1 || true
        echo "| $name | $p $(row "$dir")" >>"$TABLE"
    done
done
echo "Go $GOV, $(nproc) CPUs; before = GOGC 100, no limit; after = the recommendation as env vars." >>"$TABLE"
cat "$TABLE"
log "results in $OUT"
