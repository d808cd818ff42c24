#!/usr/bin/env bash
# Attach cost per Go binary: what gcpilot spends before its probes fire on a
# binary (parse the ELF, derive the runtime layout, plan the probes), cold and
# cached, and the peak RSS of doing it, for binaries of about 3, 10-20, 50 and
# 100+ MB: the test programs (plain and stripped, newest Go), generated
# programs of 25 and 120+ MB (bench/attach/gen_big.py; plain and stripped),
# and real binaries on this machine (Debian's Go toolchain, built with -pgo,
# and prometheus). Prints a Markdown table against the targets of issue 11
# (<= 300 ms and <= 50 MB RSS for a 100 MB binary).
#
#   bench/attach_bench.sh [--out DIR]      (default: a UTC-stamped dir in /tmp)
#
# Builds build/ (scripts/build.sh) if needed. The generated programs are
# cached under build/attach-bench. No root needed.
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_NAME=attach_bench
source bench/lib.sh
if [[ ${1:-} == --out ]]; then OUT=$2; fi
bench_out /tmp/gcpilot-attach-bench

[[ -x build/bench/gcpilot_attach_cost ]] || TARGETS=(gcpilot_attach_cost) bash scripts/build.sh
tool=build/bench/gcpilot_attach_cost
big=build/attach-bench
gobin=$(bash scripts/go_toolchains.sh list 1.23 | awk '{print $3}')/bin/go

# gen NAME PKGS FUNCS: build/attach-bench/NAME{,-stripped}.
gen() {
    local name=$1 pkgs=$2 funcs=$3
    [[ -x $big/$name-stripped ]] && return 0
    log "generating $name ($pkgs x $funcs functions; a few minutes for the big one)"
    rm -rf "$big/$name.src"
    python3 bench/attach/gen_big.py "$big/$name.src" "$pkgs" "$funcs"
    (cd "$big/$name.src" && GOTOOLCHAIN=local GOFLAGS= GOPROXY=off "$gobin" build -o "../$name" ./cmd &&
        GOTOOLCHAIN=local GOFLAGS= GOPROXY=off "$gobin" build -ldflags="-s -w" -o "../$name-stripped" ./cmd)
    rm -rf "$big/$name.src"
}
mkdir -p "$big"
gen big25 40 600
gen big120 160 800

binaries=(build/testprogs/go1.27/steady build/testprogs/go1.27/steady-stripped
    build/testprogs/go1.27/steady-pgo-stripped "$big/big25" "$big/big25-stripped"
    "$big/big120" "$big/big120-stripped")
for b in /usr/lib/go-1.23/pkg/tool/linux_amd64/compile /usr/bin/prometheus; do
    [[ -x $b ]] && binaries+=("$b")
done
# Cold page cache is not what is measured: read each file once first.
cat "${binaries[@]}" >/dev/null
"$tool" "${binaries[@]}" >"$OUT/attach_cost.tsv"

{
    echo "| binary | size MB | Go | layout from | cold ms | cached ms | peak RSS MB | result |"
    echo "|---|---:|---|---|---:|---:|---:|---|"
    awk -F'\t' '{ printf "| %s | %.1f | %s | %s | %s | %s | %.1f | %s |\n", $1, $2 / 1048576, $3, $4, $5, $6, $7 / 1024, $8 }' \
        "$OUT/attach_cost.tsv"
    echo
    echo "Targets (issue 11): a 100 MB binary attaches in <= 300 ms with <= 50 MB peak RSS."
} | tee "$OUT/attach_cost.md"
log "results in $OUT"
