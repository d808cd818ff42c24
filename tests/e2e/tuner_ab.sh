#!/usr/bin/env bash
# One before/after measurement of a tuner policy on a workload in a memory
# cgroup (root). Used by the tuner e2e test and bench/tuner_bench.sh.
#
#   tuner_ab.sh GCPILOT PROG POLICY LIMIT_MB OUT_DIR [PROG_ARGS...]
#
# 1. creates a memory cgroup with a LIMIT_MB limit (cgroup v2:
#    /sys/fs/cgroup/gcpilot-test-<rand>/memory.max; cgroup v1 (the memory
#    controller on a v1 hierarchy): a child of this shell's own memory
#    cgroup, memory.limit_in_bytes), one per run;
# 2. "before": runs PROG (a tests/testprogs/tunable binary) in it with the
#    default settings and, while it runs, `gcpilot tune --pid P --policy
#    POLICY --json` (OUT_DIR/tune.json);
# 3. "after": runs PROG again, in a fresh cgroup with the same limit, with
#    the recommended GOGC / GOMEMLIMIT as environment variables (the same
#    values the actuator would set with debug.SetGCPercent /
#    debug.SetMemoryLimit);
# 4. writes, per run, the program's own measurements (OUT_DIR/before.json,
#    after.json: GC rate, GC CPU share, heap peak, VmHWM), the cgroup's
#    peak usage and OOM kills (OUT_DIR/before.cg, after.cg: "peak N\noom_kill
#    N") and the exit codes (before.rc, after.rc, tune.rc);
# 5. removes the cgroups (also on failure).
# Environment: TUNE_WATCH (default 8) seconds the tuner watches; RUN_S
# (default 16) seconds each run lasts.
set -u
if [[ $# -lt 5 ]]; then
    echo "usage: $0 GCPILOT PROG POLICY LIMIT_MB OUT_DIR [PROG_ARGS...]" >&2
    exit 2
fi
gcpilot=$1 prog=$2 policy=$3 limit_mb=$4 out=$5
shift 5
watch_s=${TUNE_WATCH:-8}
run_s=${RUN_S:-16}
mkdir -p "$out"
limit=$((limit_mb * 1024 * 1024))
tag="gcpilot-test-$$-$RANDOM"

if [[ -f /sys/fs/cgroup/cgroup.controllers ]] && grep -qw memory /sys/fs/cgroup/cgroup.controllers; then
    version=2
    base=/sys/fs/cgroup
    grep -qw memory /sys/fs/cgroup/cgroup.subtree_control ||
        echo +memory >/sys/fs/cgroup/cgroup.subtree_control
else
    version=1
    rel=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3}' /proc/self/cgroup)
    base=/sys/fs/cgroup/memory${rel%/}
fi
echo "cgroup v$version under $base" >"$out/cgroup.txt"
made=()
cleanup() {
    local cg
    for cg in "${made[@]}"; do
        for _ in $(seq 50); do rmdir "$cg" 2>/dev/null && break; sleep 0.1; done
    done
}
trap cleanup EXIT

new_cgroup() {  # $1: name -> sets $cg
    cg="$base/$tag-$1"
    mkdir "$cg" || return 1
    made+=("$cg")
    if [[ $version == 2 ]]; then
        echo "$limit" >"$cg/memory.max" && echo 0 >"$cg/memory.swap.max" 2>/dev/null
    else
        echo "$limit" >"$cg/memory.limit_in_bytes" &&
            { echo "$limit" >"$cg/memory.memsw.limit_in_bytes" 2>/dev/null || true; }
    fi
}

cg_report() {  # $1: cgroup dir -> "peak N\noom_kill N"
    if [[ $version == 2 ]]; then
        echo "peak $(cat "$1/memory.peak" 2>/dev/null || echo -1)"
        echo "oom_kill $(awk '$1=="oom_kill"{print $2}' "$1/memory.events")"
    else
        echo "peak $(cat "$1/memory.max_usage_in_bytes")"
        echo "oom_kill $(awk '$1=="oom_kill"{print $2}' "$1/memory.oom_control")"
    fi
}

run_in() {  # $1: cgroup dir, $2: truth file, rest: env assignments
    local dir=$1 truth=$2
    shift 2
    sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$dir" \
        env "$@" "$prog" -duration "${run_s}s" -truth "$truth" "${PROG_ARGS[@]}" \
        >>"$out/prog.log" 2>&1 &
    pid=$!
}
PROG_ARGS=("$@")

new_cgroup before || exit 1
run_in "$cg" "$out/before.json"
p=$pid
sleep 3
"$gcpilot" tune --pid "$p" --policy "$policy" --json --watch-seconds "$watch_s" \
    >"$out/tune.json" 2>"$out/tune.err"
echo $? >"$out/tune.rc"
wait "$p"
echo $? >"$out/before.rc"
cg_report "$cg" >"$out/before.cg"

env_of() {  # $1: GOGC or GOMEMLIMIT -> the recommended value ("" if none)
    python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
r=[x for x in d.get("recommendations",[]) if "env" in x]
print(r[0]["env"][sys.argv[2]] if r else "")' "$out/tune.json" "$1" 2>/dev/null
}
gogc=$(env_of GOGC)
memlimit=$(env_of GOMEMLIMIT)
if [[ -z $gogc ]]; then
    echo "no recommendation: $(cat "$out/tune.err")" >&2
    exit 1
fi
echo "GOGC=$gogc GOMEMLIMIT=$memlimit" >"$out/applied.txt"
new_cgroup after || exit 1
run_in "$cg" "$out/after.json" "GOGC=$gogc" "GOMEMLIMIT=$memlimit"
wait "$pid"
echo $? >"$out/after.rc"
cg_report "$cg" >"$out/after.cg"
exit 0
