# shellcheck shell=bash
# Shared setup and cleanup of the root benchmarks in bench/ (observer_bench.sh,
# serve_bench.sh, detect_bench.sh). Source it after `cd` to the repository root,
# with BENCH_NAME set (the prefix of every message):
#
#   BENCH_NAME=serve_bench
#   source bench/lib.sh
#   bench_out /tmp/gcpilot-serve-bench         # OUT, unless --out set it
#   bench_work /tmp/gcpilot-serve-bench-work   # WORK, PIDFILE, traps
#   bench_gcpilot "$GCPILOT"                   # $WORK/gcpilot, a private copy
#   in_bg some build step                      # interruptible
#   python3 driver.py ... & DRIVER_PID=$!; wait "$DRIVER_PID"
#
# On exit or interrupt the cleanup stops the driver (SIGTERM) and the step running
# under in_bg, SIGKILLs every pid listed in $PIDFILE (a negative one is a process
# group), calls bench_cleanup_hook if the script defines it, and removes $WORK
# (kept with KEEP_WORK=1). It exits with the script's status (130/143/129 after
# SIGINT/SIGTERM/SIGHUP).

: "${BENCH_NAME:?set BENCH_NAME before sourcing bench/lib.sh}"

die() { printf '%s: %s\n' "$BENCH_NAME" "$*" >&2; exit 1; }
log() { printf '%s: %s\n' "$BENCH_NAME" "$*" >&2; }

WORK=""
PIDFILE=""
DRIVER_PID=""
CHILD=""

# Runs a step in the background and waits, so that a signal reaches the trap at
# once (bash defers traps while a foreground child runs).
in_bg() { "$@" & CHILD=$!; wait "$CHILD"; }

bench_cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  if [[ -n $DRIVER_PID ]] && kill -0 "$DRIVER_PID" 2>/dev/null; then
    kill -TERM "$DRIVER_PID" 2>/dev/null || true
    wait "$DRIVER_PID" 2>/dev/null || true
  fi
  if [[ -n $CHILD ]]; then kill -TERM "$CHILD" 2>/dev/null || true; fi
  # Anything the driver started and could not stop: it records every pid (a
  # negative one is a process group, e.g. chromium and its helpers).
  local pid
  if [[ -n $PIDFILE && -f $PIDFILE ]]; then
    while read -r pid; do
      if [[ -n $pid ]]; then kill -KILL -- "$pid" 2>/dev/null || true; fi
    done <"$PIDFILE"
  fi
  if declare -F bench_cleanup_hook >/dev/null; then bench_cleanup_hook || true; fi
  if [[ -n $WORK ]]; then
    if [[ ${KEEP_WORK:-0} == 1 ]]; then log "work files kept in $WORK"; else rm -rf "$WORK"; fi
  fi
  exit "$rc"
}

# bench_out PREFIX: the results directory $OUT (--out), else PREFIX-<UTC time>;
# created, and made absolute.
bench_out() {
  OUT=${OUT:-$1-$(date -u +%Y%m%d-%H%M%S)}
  mkdir -p "$OUT"
  OUT=$(cd "$OUT" && pwd)
}

# bench_work PREFIX: a fresh work directory PREFIX.XXXXXX ($WORK) with an empty
# $PIDFILE, and the cleanup traps.
bench_work() {
  WORK=$(mktemp -d "$1.XXXXXX")
  PIDFILE=$WORK/pids
  : >"$PIDFILE"
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
}

# bench_gcpilot [PATH]: the gcpilot binary to measure (default build/gcpilot,
# built with scripts/build.sh when missing), copied to $WORK/gcpilot so that a
# rebuild of build/ during the run changes nothing. Sets GCPILOT to the copy and
# GCPILOT_SRC to the original.
bench_gcpilot() {
  local bin=${1:-}
  if [[ -z $bin ]]; then
    bin=$(pwd)/build/gcpilot
    if [[ ! -x $bin ]]; then
      log "build/gcpilot missing: building it (scripts/build.sh)"
      in_bg bash scripts/build.sh >&2
    fi
  fi
  [[ -x $bin ]] || die "gcpilot binary not found: $bin"
  cp "$bin" "$WORK/gcpilot"
  # shellcheck disable=SC2034  # used by the sourcing script
  GCPILOT_SRC=$bin GCPILOT=$WORK/gcpilot
}
