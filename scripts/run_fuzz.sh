#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang 14, ASan and UBSan in
# build-fuzz/, and runs each for SECONDS_PER_TARGET seconds (default 20) on a
# copy of its seed corpus (fuzz/corpus/<target>/, so the repository's corpus
# is never modified) with its dictionary (fuzz/dict/). Prints executions/s,
# coverage and corpus growth per target.
#
# Usage: scripts/run_fuzz.sh [SECONDS_PER_TARGET]
# Exit status: 0 when no target found anything; 1 on any crash, sanitizer
# report, failed invariant, leak, timeout or out-of-memory, after printing
# the path of the input that triggered it (reproduce with
# build-fuzz/fuzz/<target> <input>); 2 on a usage or build error.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${1:-20}
if ! [[ "$SECONDS_PER_TARGET" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 [SECONDS_PER_TARGET]" >&2
  exit 2
fi
BUILD_DIR=build-fuzz
TARGETS=(gctrace_parser_fuzz gctrace_source_fuzz event_json_fuzz go_binary_fuzz)

log() { printf 'run_fuzz: %s\n' "$*" >&2; }

dict_for() {
  case "$1" in
    gctrace_parser_fuzz | gctrace_source_fuzz) echo fuzz/dict/gctrace.dict ;;
    event_json_fuzz) echo fuzz/dict/event_json.dict ;;
    go_binary_fuzz) echo fuzz/dict/go_binary.dict ;;
  esac
}

log "configuring ${BUILD_DIR}/ (clang-14, -DGCPILOT_FUZZ=ON)"
if ! CC=clang-14 CXX=clang++-14 cmake -S . -B "$BUILD_DIR" -G Ninja -DGCPILOT_FUZZ=ON \
  -DGCPILOT_TESTS=OFF -DGCPILOT_BENCH=OFF >/dev/null; then
  log "cmake failed"
  exit 2
fi
log "building ${TARGETS[*]}"
if ! ninja -C "$BUILD_DIR" "${TARGETS[@]}" >/dev/null; then
  ninja -C "$BUILD_DIR" "${TARGETS[@]}" >&2 || true
  log "build failed"
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/gcpilot-fuzz.XXXXXX")
failed=0
# Sanitizer reports must stop the run so libFuzzer saves the input (UBSan
# only prints and continues by default).
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1

summary=()
for t in "${TARGETS[@]}"; do
  dir="$work/$t"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp -R "fuzz/corpus/$t/." "$dir/corpus/"
  seeds=$(find "$dir/corpus" -type f | wc -l)
  args=(-max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -timeout=10
        -print_final_stats=1 -artifact_prefix="$dir/artifacts/")
  dict=$(dict_for "$t")
  [ -n "$dict" ] && [ -f "$dict" ] && args+=(-dict="$dict")
  log "running $t for ${SECONDS_PER_TARGET}s ($seeds seeds)"
  rc=0
  "$BUILD_DIR/fuzz/$t" "${args[@]}" "$dir/corpus" >"$dir/log" 2>&1 || rc=$?

  execs=$(awk '/^stat::number_of_executed_units/ {v = $NF} END {print v}' "$dir/log")
  rate=$(awk '/^stat::average_exec_per_sec/ {v = $NF} END {print v}' "$dir/log")
  last=$(grep -E '^#[0-9]+.*cov: ' "$dir/log" | tail -n 1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corpus=$(find "$dir/corpus" -type f | wc -l)
  status=ok
  if [ "$rc" -ne 0 ]; then
    status=FAILED
    failed=1
    log "$t FAILED (exit $rc); the report:"
    awk '/runtime error|ERROR:|fuzz invariant|event changed|does not read back/ {on = 1}
         on && n < 30 {print; n++}' "$dir/log" >&2
    found=$(find "$dir/artifacts" -type f | sort)
    if [ -n "$found" ]; then
      while IFS= read -r f; do log "$t: crash input: $f"; done <<<"$found"
    else
      log "$t: no crash input saved; full log: $dir/log"
    fi
  fi
  summary+=("$(printf '| %s | %s | %s | %s | %s | %s | %s -> %s |' "$t" "$status" "${execs:-?}" \
    "${rate:-?}" "${cov:-?}" "${ft:-?}" "$seeds" "$corpus")")
done

echo
echo "libFuzzer, ${SECONDS_PER_TARGET}s per target (clang-14, ASan + UBSan)"
echo
echo "| target | result | executions | execs/s | coverage (edges) | features | corpus (files) |"
echo "|---|---|---:|---:|---:|---:|---|"
printf '%s\n' "${summary[@]}"

if [ "$failed" -ne 0 ]; then
  log "work directory kept: $work"
  exit 1
fi
rm -rf "$work"
