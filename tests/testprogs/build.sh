#!/usr/bin/env bash
# Build every test program with every test toolchain.
#
#   tests/testprogs/build.sh OUT_DIR
#
# For each toolchain of scripts/go_toolchains.sh (Go 1.19 and 1.21-1.23 from
# Debian, 1.24-1.27 fetched by the go command; missing Debian ones are
# reported as skipped), writes
#   OUT_DIR/go1.XX/NAME            (with symbol table and DWARF)
#   OUT_DIR/go1.XX/NAME-stripped   (-ldflags='-s -w': no .symtab, no DWARF)
# for every program directory (a directory with a main.go) next to this
# script, and for the programs in VARIANT_PROGRAMS also
#   OUT_DIR/go1.XX/NAME-nodwarf       (-ldflags=-w: .symtab, no DWARF)
#   OUT_DIR/go1.XX/NAME-pie-stripped  (-buildmode=pie -ldflags='-s -w')
#   OUT_DIR/go1.XX/NAME-pgo-stripped  (-pgo with a CPU profile of the program
#                                      itself, -s -w; Go 1.21+)
# and OUT_DIR/goX.Y.Z/NAME{,-stripped} for the older patches of
# `go_toolchains.sh extra` (layout tests).
# Offline but for the toolchains: GOPROXY=off GOFLAGS=-mod=mod
# GOTOOLCHAIN=local CGO_ENABLED=0; GOCACHE and GOPATH live under OUT_DIR.
# Incremental: a binary newer than every .go file, go.mod and this script is
# kept. Exits non-zero if no toolchain is installed or a build fails.
# Environment: GO_VERSIONS="1.21 1.23" restricts the minors;
# BUILD_TIMEOUT (default 600) bounds each go invocation, in seconds.
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 OUT_DIR" >&2
    exit 2
fi

src_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$1"
out_dir=$(cd "$1" && pwd)
toolchains_sh="$src_dir/../../scripts/go_toolchains.sh"
variant_programs=${VARIANT_PROGRAMS:-"steady stwreasons"}
build_timeout=${BUILD_TIMEOUT:-600}

export GOCACHE="$out_dir/.gocache"
export GOPATH="$out_dir/.gopath"
export GOMODCACHE="$GOPATH/pkg/mod"
export GOPROXY=off
export GOFLAGS=-mod=mod
export GOTOOLCHAIN=local
export GOWORK=off
export GOENV=off
export CGO_ENABLED=0
unset GOOS GOARCH GOROOT GOEXPERIMENT GODEBUG

programs=()
for main in "$src_dir"/*/main.go; do
    programs+=("$(basename "$(dirname "$main")")")
done
if [[ ${#programs[@]} -eq 0 ]]; then
    echo "build.sh: no programs under $src_dir" >&2
    exit 1
fi

# Newest input: every .go file, go.mod and this script (and the actuator
# package agent/go, which go.mod replaces into the build).
inputs=()
while IFS= read -r -d '' f; do
    inputs+=("$f")
done < <(find "$src_dir" "$src_dir/../../agent/go" -name '*.go' -print0)
inputs+=("$src_dir/go.mod" "$src_dir/../../agent/go/go.mod" "${BASH_SOURCE[0]}")

# up_to_date BIN: BIN exists and is newer than every input.
up_to_date() {
    local bin=$1 f
    [[ -f $bin ]] || return 1
    for f in "${inputs[@]}"; do
        [[ $bin -nt $f ]] || return 1
    done
}

run_go() {
    if command -v timeout >/dev/null 2>&1; then
        timeout "$build_timeout" "$@"
    else
        "$@"
    fi
}

# build_variant GOBIN GOROOT DEST SUFFIX PROGRAMS FLAGS...: builds each of
# PROGRAMS that is stale into DEST/NAME$SUFFIX with `go build FLAGS`.
build_variant() {
    local gobin=$1 goroot=$2 dest=$3 suffix=$4 progs=$5
    shift 5
    local stale=() p tmp pkgs=() start
    for p in $progs; do
        up_to_date "$dest/$p$suffix" || stale+=("$p")
    done
    if [[ ${#stale[@]} -eq 0 ]]; then
        echo "build.sh: $(basename "$dest") ${suffix:-full}: up to date"
        return 0
    fi
    echo "build.sh: $(basename "$dest") ${suffix:-full}: building ${stale[*]}"
    tmp=$(mktemp -d "$dest/.build.XXXXXX")
    for p in "${stale[@]}"; do pkgs+=("./$p"); done
    start=$SECONDS
    if ! (cd "$src_dir" && GOROOT="$goroot" run_go "$gobin" build -buildvcs=false \
        "$@" -o "$tmp/" "${pkgs[@]}"); then
        rm -rf "$tmp"
        echo "build.sh: $(basename "$dest") ${suffix:-full}: build failed" >&2
        exit 1
    fi
    for p in "${stale[@]}"; do
        mv -f "$tmp/$p" "$dest/$p$suffix"
    done
    rm -rf "$tmp"
    echo "build.sh: $(basename "$dest") ${suffix:-full}: built in $((SECONDS - start))s"
}

# A CPU profile of GC-heavy work (internal/pgoprof) for -pgo builds: PGO
# changes how the runtime's own code is inlined, as in real PGO services.
pgo_profile() {
    local gobin=$1 goroot=$2 dest=$3
    if up_to_date "$dest/pgo.pprof"; then return 0; fi
    (cd "$src_dir" && GOROOT="$goroot" run_go "$gobin" build -buildvcs=false \
        -o "$dest/.pgoprof" ./internal/pgoprof) &&
        run_go "$dest/.pgoprof" "$dest/pgo.pprof.tmp" &&
        mv -f "$dest/pgo.pprof.tmp" "$dest/pgo.pprof"
}

all_programs="${programs[*]}"
toolchains=$(bash "$toolchains_sh" list ${GO_VERSIONS:-})
extra=$(bash "$toolchains_sh" extra)
found=0
while read -r minor version goroot; do
    [[ -n $minor ]] || continue
    gobin="$goroot/bin/go"
    found=$((found + 1))
    dest="$out_dir/go$minor"
    mkdir -p "$dest"
    build_variant "$gobin" "$goroot" "$dest" "" "$all_programs"
    build_variant "$gobin" "$goroot" "$dest" "-stripped" "$all_programs" -ldflags="-s -w"
    build_variant "$gobin" "$goroot" "$dest" "-nodwarf" "$variant_programs" -ldflags="-w"
    build_variant "$gobin" "$goroot" "$dest" "-pie-stripped" "$variant_programs" \
        -buildmode=pie -ldflags="-s -w"
    if ((${minor#1.} >= 21)); then
        pgo_profile "$gobin" "$goroot" "$dest"
        build_variant "$gobin" "$goroot" "$dest" "-pgo-stripped" "$variant_programs" \
            -pgo="$dest/pgo.pprof" -ldflags="-s -w"
    fi
    # Older patches of this minor: plain and stripped, for the layout tests.
    while read -r xminor xversion; do
        [[ $xminor == "$minor" ]] || continue
        xroot=$(bash "$toolchains_sh" goroot "$xversion")
        xdest="$out_dir/$xversion"
        mkdir -p "$xdest"
        build_variant "$xroot/bin/go" "$xroot" "$xdest" "" "$variant_programs"
        build_variant "$xroot/bin/go" "$xroot" "$xdest" "-stripped" "$variant_programs" \
            -ldflags="-s -w"
    done <<<"$extra"
done <<<"$toolchains"

if [[ $found -eq 0 ]]; then
    echo "build.sh: no Go toolchain found (scripts/setup.sh installs them)" >&2
    exit 1
fi
echo "build.sh: done: $found Go version(s), ${#programs[@]} program(s) in $out_dir"
