#!/usr/bin/env bash
# The "real binaries nobody here wrote" check (issue 11): runs gcpilot's eBPF
# source on stripped Go binaries built by others and compares what it reports with
# the Go runtime's own GODEBUG=gctrace=1 lines.
#
# 1. Fetches into a cache directory (default build/real-binaries) the Go binaries
#    shipped in npm platform packages: @esbuild/linux-x64 (ten versions, Go 1.19 to
#    the newest), @bufbuild/buf-linux-x64 and lefthook-linux-x64 (four each), with
#    `npm pack` + tar (nothing is installed, no package script runs); and Debian's Go
#    services: prometheus (installed by scripts/setup.sh), etcd-server and caddy
#    (the installed ones, else `apt-get download` + `dpkg-deb -x` into the cache: no
#    maintainer script runs, no service starts; skipped when apt cannot get them).
#    Prints each binary's Go version (`go version BINARY`; a binary without
#    .go.buildinfo gets the runtime's version string, marked "(strings)") and
#    whether it is stripped (no .symtab) and has DWARF.
# 2. Runs a real GC-heavy workload of each under
#      GODEBUG=gctrace=1 gcpilot run --source=ebpf --interval 0 --json-out FILE -- BINARY ARGS
#    holding the eBPF tests' lock (flock /tmp/gcpilot-ebpf-tests.lock, as tests/e2e
#    and bench/ do); the program's stderr (the gctrace lines) goes to a file.
#    esbuild: watch-mode bundle + minify of ~24 MB of generated JS (1000 modules),
#    then two rebuilds, GOGC=25 (esbuild turns its GC off except in watch/serve
#    mode); buf: `buf build` of 400 generated .proto files, GOGC=25; lefthook:
#    `lefthook run pre-commit --all-files` in a generated git repository of 20000
#    files with 40 glob-filtered commands; prometheus: 8 scrape jobs of itself every
#    1 s for 10 s, GOGC=25, then SIGTERM; etcd: 32 KiB puts through its JSON gateway
#    for 8 s, then SIGTERM; caddy: gzip'd file and directory-listing GETs for 8 s,
#    GOGC=25, then SIGTERM. Everything listens on and talks to 127.0.0.1 only; every
#    step is bounded in time.
# 3. scripts/real_binaries_compare.py compares, per binary, gcpilot's cycles with
#    the gctrace lines (cycle numbers; per cycle the STW pause and each phase within
#    gctrace's truncation interval, concurrent mark, GC CPU, heap sizes, start times)
#    and prints a table (also written to RESULTS/table.md, differing cycles to
#    RESULTS/details.txt): binary, version, Go, stripped, result (observed / refused
#    with gcpilot's one-line reason / mismatch and what), cycles, pauses matched.
#
# Usage: scripts/real_binaries.sh [--dir DIR] [--gcpilot PATH] [--only REGEX]
#                                 [--fetch-only] [--strict]
#   --dir DIR       cache and results directory (default build/real-binaries);
#                   results in DIR/results/<UTC time>/ (DIR/results/latest)
#   --gcpilot PATH  the gcpilot to run (default build/gcpilot; a private copy is used)
#   --only REGEX    only the binaries whose id (e.g. esbuild-0.25.0, buf-1.75.0,
#                   prometheus-2.42.0+ds-5+deb12u1) matches the extended regex
#   --fetch-only    fetch and describe the binaries, run nothing
#   --strict        exit 1 when any binary is refused, fails to run or mismatches
# Environment: ESBUILD_VERSIONS, BUF_VERSIONS, LEFTHOOK_VERSIONS (space-separated,
# "latest" = the newest published) override the version lists.
# Needs root (eBPF), npm, python3, git, readelf; 6-7 minutes on 2 cores (longer
# while eBPF tests hold the lock).
# Exit status: 0 when it ran (refusals and mismatches are reported), 1 with
# --strict as above, 2 on a usage or setup error.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

DIR=build/real-binaries
GCPILOT_SRC=build/gcpilot
ONLY=""
FETCH_ONLY=0
STRICT=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --dir) DIR=$2; shift 2 ;;
    --gcpilot) GCPILOT_SRC=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --fetch-only) FETCH_ONLY=1; shift ;;
    --strict) STRICT=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "real_binaries: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

ESBUILD_VERSIONS=${ESBUILD_VERSIONS:-"0.15.18 0.17.19 0.19.12 0.21.5 0.23.1 0.24.2 0.25.0 0.25.12 0.27.7 latest"}
BUF_VERSIONS=${BUF_VERSIONS:-"1.28.1 1.40.1 1.50.1 latest"}
LEFTHOOK_VERSIONS=${LEFTHOOK_VERSIONS:-"1.5.0 1.10.10 1.11.16 latest"}
LOCK=/tmp/gcpilot-ebpf-tests.lock
HERE=$ROOT/scripts

log() { printf 'real_binaries: %s\n' "$*" >&2; }
die() { log "$*"; exit 2; }

for tool in npm tar python3 readelf git flock; do
  command -v "$tool" >/dev/null || die "$tool is missing (scripts/setup.sh installs it)"
done
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
INPUTS=$DIR/inputs
WORK=""
GPID=""

# The Go tool that reads build info: go in PATH, else the newest Debian one.
GO=$(command -v go || ls -d /usr/lib/go-1.*/bin/go 2>/dev/null | sort -V | tail -1 || true)
[[ -n $GO ]] || die "no go toolchain (scripts/setup.sh installs /usr/lib/go-1.23)"

# Runs a step in the background and waits, so that a signal reaches the traps at
# once (bash defers them while a foreground child runs), as bench/lib.sh does.
CHILD=""
in_bg() { "$@" & CHILD=$!; wait "$CHILD"; }

alive() { # PID: running and not a zombie
  local st
  st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1) || return 1
  [[ -n $st && $st != Z && $st != X ]]
}

stop_gcpilot() { # the running gcpilot and the program it started, by pid
  [[ -n $GPID ]] || return 0
  local kids
  kids=$(cat /proc/"$GPID"/task/*/children 2>/dev/null || true)
  if alive "$GPID"; then kill -TERM "$GPID" 2>/dev/null || true; fi
  for _ in $(seq 1 50); do alive "$GPID" || break; sleep 0.1; done
  if alive "$GPID"; then kill -KILL "$GPID" 2>/dev/null || true; fi
  local k
  for k in $kids; do if alive "$k"; then kill -KILL "$k" 2>/dev/null || true; fi; done
  wait "$GPID" 2>/dev/null || true
  GPID=""
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  if [[ -n $CHILD ]] && alive "$CHILD"; then kill -TERM "$CHILD" 2>/dev/null || true; fi
  stop_gcpilot
  if [[ -n $WORK && -d $WORK ]]; then rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ---------------------------------------------------------------- 1. fetch
BINS=() # "id|name|version|path"

describe() { # PATH -> "go|stripped|dwarf"
  local bin=$1 go stripped dwarf
  go=$("$GO" version "$bin" 2>/dev/null || true) # "PATH: go1.22.5[ X:...]"
  go=${go##*: }
  go=${go%% *}
  if [[ $go != go1.* ]]; then
    # no .go.buildinfo (esbuild >= 0.27 drops it): the runtime's version string
    local cands
    cands=$(grep -aoE 'go1\.[0-9]+\.[0-9]+' "$bin" | sort -u || true)
    if [[ -n $cands && $(wc -l <<<"$cands") -eq 1 ]]; then go="$cands (strings)"; else go="unknown"; fi
  fi
  if readelf -S -W "$bin" 2>/dev/null | grep -q ' \.symtab '; then stripped=no; else stripped=yes; fi
  if readelf -S -W "$bin" 2>/dev/null | grep -qE ' \.z?debug_info '; then dwarf=yes; else dwarf=no; fi
  printf '%s|%s|%s\n' "$go" "$stripped" "$dwarf"
}

add_bin() { # id name version path
  if [[ -n $ONLY && ! $1 =~ $ONLY ]]; then return 0; fi
  BINS+=("$1|$2|$3|$4")
}

npm_fetch() { # PACKAGE VERSION|latest BINARY SHORT
  local pkg=$1 ver=$2 binname=$3 short=$4
  if [[ $ver == latest ]] && ! ver=$(npm view "$pkg" version 2>/dev/null); then
    # offline: the newest one in the cache, if any
    ver=$(ls -d "$DIR/bin/$short-"* 2>/dev/null | sed "s|.*/$short-||" | sort -V | tail -1 || true)
    [[ -n $ver ]] || { log "npm view $pkg failed: skipping its newest version"; return 0; }
    log "npm view $pkg failed: taking the newest cached version, $ver"
  fi
  local id=$short-$ver dest=$DIR/bin/$short-$ver/$binname
  if [[ -n $ONLY && ! $id =~ $ONLY ]]; then return 0; fi
  if [[ ! -x $dest ]]; then
    local tmp tgz
    tmp=$(mktemp -d "$DIR/fetch.XXXXXX")
    if tgz=$(cd "$tmp" && npm pack --silent --ignore-scripts "$pkg@$ver" 2>"$tmp/npm.err" | tail -1) &&
      [[ -n $tgz && -f $tmp/$tgz ]] && tar -xzf "$tmp/$tgz" -C "$tmp" "package/bin/$binname"; then
      mkdir -p "$(dirname "$dest")"
      install -m 0755 "$tmp/package/bin/$binname" "$dest"
    else
      log "could not fetch $pkg@$ver: $(tail -1 "$tmp/npm.err" 2>/dev/null)"
      rm -rf "$tmp"
      return 0
    fi
    rm -rf "$tmp"
  fi
  add_bin "$id" "$short" "$ver" "$dest"
}

debian_fetch() { # PACKAGE BINARY SHORT
  local pkg=$1 binname=$2 short=$3 ver path
  if ver=$(dpkg-query -W -f='${Status} ${Version}' "$pkg" 2>/dev/null) && [[ $ver == "install ok installed "* ]]; then
    ver=${ver##* }
    path=/usr/bin/$binname
  else
    local deb
    deb=$(ls "$DIR"/deb/"$pkg"_*.deb 2>/dev/null | sort -V | tail -1 || true)
    if [[ -z $deb ]]; then
      mkdir -p "$DIR/deb"
      if ! (cd "$DIR/deb" && apt-get download -q "$pkg" >/dev/null 2>&1); then
        log "$pkg: not installed and apt-get cannot download it: skipped"
        return 0
      fi
      deb=$(ls "$DIR"/deb/"$pkg"_*.deb 2>/dev/null | sort -V | tail -1 || true)
      [[ -n $deb ]] || { log "$pkg: apt-get download left no .deb: skipped"; return 0; }
    fi
    ver=$(dpkg-deb -f "$deb" Version)
    path=$DIR/bin/$short-$ver/$binname
    if [[ ! -x $path ]]; then
      local tmp
      tmp=$(mktemp -d "$DIR/fetch.XXXXXX")
      dpkg-deb -x "$deb" "$tmp"
      mkdir -p "$(dirname "$path")"
      install -m 0755 "$tmp/usr/bin/$binname" "$path"
      rm -rf "$tmp"
    fi
  fi
  [[ -x $path ]] || { log "$pkg: no $path: skipped"; return 0; }
  add_bin "$short-$ver" "$short" "$ver" "$path"
}

log "fetching into $DIR (go version from $GO)"
for v in $ESBUILD_VERSIONS; do npm_fetch @esbuild/linux-x64 "$v" esbuild esbuild; done
for v in $BUF_VERSIONS; do npm_fetch @bufbuild/buf-linux-x64 "$v" buf buf; done
for v in $LEFTHOOK_VERSIONS; do npm_fetch lefthook-linux-x64 "$v" lefthook lefthook; done
debian_fetch prometheus prometheus prometheus
debian_fetch etcd-server etcd etcd
debian_fetch caddy caddy caddy
[[ ${#BINS[@]} -gt 0 ]] || die "no binary fetched${ONLY:+ matching $ONLY}"

declare -A GOV STRIP DWARF
printf '%-32s %-20s %-9s %s\n' BINARY GO STRIPPED DWARF
for entry in "${BINS[@]}"; do
  IFS='|' read -r id _ _ path <<<"$entry"
  IFS='|' read -r "GOV[$id]" "STRIP[$id]" "DWARF[$id]" < <(describe "$path")
  printf '%-32s %-20s %-9s %s\n' "$id" "${GOV[$id]}" "${STRIP[$id]}" "${DWARF[$id]}"
done
[[ $FETCH_ONLY -eq 1 ]] && exit 0

# ---------------------------------------------------------------- 2. run
[[ $(id -u) -eq 0 ]] || log "not root: gcpilot's eBPF source will refuse every binary"
[[ -x $GCPILOT_SRC ]] || die "$GCPILOT_SRC missing: build it (scripts/build.sh or ninja -C build gcpilot)"
mkdir -p "$DIR/work"
WORK=$(mktemp -d "$DIR/work/run.XXXXXX")
GCPILOT=$WORK/gcpilot
cp "$GCPILOT_SRC" "$GCPILOT"
RESULTS=$DIR/results/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$RESULTS"
ln -sfn "$(basename "$RESULTS")" "$DIR/results/latest"

gen_input() { # NAME COMMAND ARGS...: DIR/inputs/NAME from real_binaries_workloads.py COMMAND,
  # regenerated when the arguments or the generator change
  local name=$1; shift
  local want="$* $(sha256sum "$HERE/real_binaries_workloads.py" | cut -c1-16)"
  if [[ ! -f $INPUTS/$name.done || $(cat "$INPUTS/$name.done") != "$want" ]]; then
    log "generating inputs/$name"
    rm -rf "${INPUTS:?}/$name"
    mkdir -p "$INPUTS/$name"
    in_bg python3 "$HERE/real_binaries_workloads.py" "$1" "$INPUTS/$name" "${@:2}"
    echo "$want" >"$INPUTS/$name.done"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

RUN="" # this binary's results directory
CWD="" # the program's working directory

launch() { # STDIN [VAR=VALUE...] -- PROGRAM ARGS...: gcpilot in the background, $GPID
  local in=$1; shift
  local envs=()
  while [[ $1 != -- ]]; do envs+=("$1"); shift; done
  shift
  (cd "$CWD" && exec env GODEBUG=gctrace=1 "${envs[@]}" "$GCPILOT" run --source=ebpf --interval 0 \
    --json-out "$RUN/gcpilot.jsonl" --report-out "$RUN/report.txt" -- "$@") \
    <"$in" >"$RUN/stdout.txt" 2>"$RUN/stderr.txt" 9>&- 7>&- &
  GPID=$!
}

finish() { # SECONDS: wait for gcpilot (SIGTERM, then SIGKILL, after SECONDS); sets RC
  local deadline=$((SECONDS + $1))
  while alive "$GPID" && ((SECONDS < deadline)); do in_bg sleep 0.2; done
  if alive "$GPID"; then
    log "$ID: still running after $1 s: stopping it"
    echo "timeout after $1 s" >>"$RUN/load.txt"
  fi
  local pid=$GPID
  RC=0
  if alive "$pid"; then stop_gcpilot; RC=124; else wait "$pid" || RC=$?; fi
  GPID=""
}

run_for() { # SECONDS: sleep while gcpilot runs
  local deadline=$((SECONDS + $1))
  while alive "$GPID" && ((SECONDS < deadline)); do in_bg sleep 0.2; done
}

mtime() { stat -c %y "$1" 2>/dev/null || echo none; }

wait_change() { # FILE OLD-MTIME SECONDS: until FILE exists with another mtime
  local deadline=$((SECONDS + $3))
  while alive "$GPID" && ((SECONDS < deadline)); do
    if [[ -s $1 && $(mtime "$1") != "$2" ]]; then in_bg sleep 0.5; return 0; fi
    in_bg sleep 0.2
  done
  return 1
}

wl_esbuild() { # BINARY
  WORKLOAD="watch-mode bundle+minify of 24 MB of JS (1000 modules) + 2 rebuilds, GOGC=25"
  gen_input js gen-js 1000
  CWD=$WORK/esbuild
  rm -rf "$CWD"
  mkdir -p "$CWD"
  cp -r "$INPUTS/js/src" "$CWD/src"
  mkfifo "$CWD/stdin"
  launch "$CWD/stdin" GOGC=25 -- "$1" src/index.js --bundle --minify --outfile=out.js --watch
  exec 7>"$CWD/stdin" # esbuild's watch mode ends when its stdin closes
  if wait_change "$CWD/out.js" none 300; then
    local k prev
    for k in 1 2; do
      prev=$(mtime "$CWD/out.js")
      echo "export const touched$k = $k;" >>"$CWD/src/m7.js"
      wait_change "$CWD/out.js" "$prev" 120 || echo "rebuild $k not seen" >>"$RUN/load.txt"
    done
  elif alive "$GPID"; then
    echo "no output within 300 s" >>"$RUN/load.txt"
  fi
  exec 7>&-
  finish 60
}

wl_buf() {
  WORKLOAD="buf build of 400 generated .proto files (20 packages), GOGC=25"
  gen_input proto gen-proto 400
  CWD=$INPUTS/proto
  mkdir -p "$WORK/buf"
  launch /dev/null GOGC=25 BUF_CACHE_DIR="$WORK/buf/cache" XDG_CACHE_HOME="$WORK/buf/cache" \
    -- "$1" build -o "$WORK/buf/image.bin"
  finish 300
}

wl_lefthook() {
  WORKLOAD="run pre-commit --all-files: git repo of 20000 files, 40 glob-filtered commands"
  gen_input repo gen-repo 20000 40
  CWD=$WORK/lefthook
  rm -rf "$CWD"
  cp -a "$INPUTS/repo" "$CWD"
  launch /dev/null LEFTHOOK_NO_AUTO_INSTALL=1 -- "$1" run pre-commit --all-files
  finish 300
}

wl_prometheus() {
  WORKLOAD="scrapes itself (8 jobs) every 1 s for 10 s on 127.0.0.1, GOGC=25, SIGTERM"
  CWD=$WORK/prometheus
  rm -rf "$CWD"
  mkdir -p "$CWD"
  local port
  port=$(free_port)
  {
    printf 'global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n'
    for j in 0 1 2 3 4 5 6 7; do
      printf '  - job_name: self%s\n    static_configs:\n      - targets: ["127.0.0.1:%s"]\n' "$j" "$port"
    done
  } >"$CWD/prometheus.yml"
  launch /dev/null GOGC=25 -- "$1" --config.file="$CWD/prometheus.yml" \
    --storage.tsdb.path="$CWD/data" --web.listen-address="127.0.0.1:$port"
  if in_bg python3 "$HERE/real_binaries_workloads.py" wait-http "http://127.0.0.1:$port/-/ready" 60 "$GPID"; then
    run_for 10
  elif alive "$GPID"; then
    echo "not ready within 60 s" >>"$RUN/load.txt"
  fi
  if alive "$GPID"; then kill -TERM "$GPID" 2>/dev/null || true; fi
  finish 60
}

wl_etcd() {
  WORKLOAD="32 KiB puts through the v3 JSON gateway for 8 s on 127.0.0.1, SIGTERM"
  CWD=$WORK/etcd
  rm -rf "$CWD"
  mkdir -p "$CWD"
  local p1 p2
  p1=$(free_port)
  p2=$(free_port)
  launch /dev/null -- "$1" --name default --data-dir "$CWD/data" \
    --listen-client-urls "http://127.0.0.1:$p1" --advertise-client-urls "http://127.0.0.1:$p1" \
    --listen-peer-urls "http://127.0.0.1:$p2" --initial-advertise-peer-urls "http://127.0.0.1:$p2" \
    --initial-cluster "default=http://127.0.0.1:$p2" --logger=zap --log-outputs=stdout
  if in_bg python3 "$HERE/real_binaries_workloads.py" wait-http "http://127.0.0.1:$p1/health" 60 "$GPID"; then
    in_bg python3 "$HERE/real_binaries_workloads.py" etcd-load 8 "http://127.0.0.1:$p1" >>"$RUN/load.txt" 2>&1 || true
  elif alive "$GPID"; then
    echo "not ready within 60 s" >>"$RUN/load.txt"
  fi
  if alive "$GPID"; then kill -TERM "$GPID" 2>/dev/null || true; fi
  finish 60
}

wl_caddy() {
  WORKLOAD="gzip'd file and directory-listing GETs, 4 clients for 8 s on 127.0.0.1, GOGC=25, SIGTERM"
  gen_input www gen-www
  CWD=$WORK/caddy
  rm -rf "$CWD"
  mkdir -p "$CWD"
  local port
  port=$(free_port)
  printf '{\n\tadmin off\n\tlog {\n\t\toutput stdout\n\t}\n}\nhttp://127.0.0.1:%s {\n\troot * %s\n\tencode gzip\n\tfile_server browse\n}\n' \
    "$port" "$INPUTS/www" >"$CWD/Caddyfile"
  launch /dev/null GOGC=25 HOME="$CWD" XDG_CONFIG_HOME="$CWD/config" XDG_DATA_HOME="$CWD/data" \
    -- "$1" run --config "$CWD/Caddyfile" --adapter caddyfile
  local base=http://127.0.0.1:$port
  if in_bg python3 "$HERE/real_binaries_workloads.py" wait-http "$base/big.txt" 60 "$GPID"; then
    in_bg python3 "$HERE/real_binaries_workloads.py" http-load 8 4 "$base/big.txt" "$base/list/" >>"$RUN/load.txt" 2>&1 || true
  elif alive "$GPID"; then
    echo "not ready within 60 s" >>"$RUN/load.txt"
  fi
  if alive "$GPID"; then kill -TERM "$GPID" 2>/dev/null || true; fi
  finish 60
}

json_meta() { # KEY VALUE ... -> JSON object
  python3 -c 'import json, sys; a = sys.argv[1:]; print(json.dumps(dict(zip(a[::2], a[1::2]))))' "$@"
}

: >"$RESULTS/order.txt"
for entry in "${BINS[@]}"; do
  IFS='|' read -r ID NAME VERSION BINPATH <<<"$entry"
  RUN=$RESULTS/$ID
  mkdir -p "$RUN"
  : >"$RUN/load.txt"
  echo "$ID" >>"$RESULTS/order.txt"
  exec 9>>"$LOCK"
  if ! flock -n 9; then
    log "$ID: waiting for the eBPF lock ($LOCK)"
    flock 9
  fi
  log "$ID: running under gcpilot"
  start=$SECONDS
  "wl_$NAME" "$BINPATH"
  flock -u 9
  exec 9>&-
  json_meta id "$ID" name "$NAME" version "$VERSION" path "$BINPATH" go "${GOV[$ID]}" \
    stripped "${STRIP[$ID]}" dwarf "${DWARF[$ID]}" workload "$WORKLOAD" gcpilot_rc "$RC" \
    seconds "$((SECONDS - start))" >"$RUN/meta.json"
  log "$ID: gcpilot exit $RC after $((SECONDS - start)) s; $(grep -c '^gc [0-9]' "$RUN/stderr.txt" || true) gctrace lines"
done

# ---------------------------------------------------------------- 3. compare
log "results in $RESULTS"
args=("$RESULTS")
[[ $STRICT -eq 1 ]] && args+=(--strict)
python3 "$HERE/real_binaries_compare.py" "${args[@]}"
