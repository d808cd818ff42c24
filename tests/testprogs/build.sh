#!/usr/bin/env bash
# Build every test program with every installed Go toolchain.
#
#   tests/testprogs/build.sh OUT_DIR
#
# For each Go version among 1.19 1.21 1.22 1.23 whose /usr/lib/go-1.XX/bin/go
# exists (others are reported as skipped), writes
#   OUT_DIR/go1.XX/NAME            (with symbol table and DWARF)
#   OUT_DIR/go1.XX/NAME-stripped   (-ldflags='-s -w': no .symtab, no DWARF)
# for every program directory (a directory with a main.go) next to this script.
# Standard library only, offline: GOPROXY=off GOFLAGS=-mod=mod GOTOOLCHAIN=local
# CGO_ENABLED=0; GOCACHE and GOPATH live under OUT_DIR.
# Incremental: a binary newer than every .go file, go.mod and this script is
# kept. Exits non-zero if no toolchain is installed or a build fails.
# Environment: GO_VERSIONS="1.21 1.23" restricts the versions;
# GO_ROOT_PATTERN (default /usr/lib/go-%s) locates a toolchain;
# BUILD_TIMEOUT (default 600) bounds each go invocation, in seconds.
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 OUT_DIR" >&2
    exit 2
fi

src_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$1"
out_dir=$(cd "$1" && pwd)
versions=${GO_VERSIONS:-"1.19 1.21 1.22 1.23"}
root_pattern=${GO_ROOT_PATTERN:-/usr/lib/go-%s}
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

found=0
for v in $versions; do
    # shellcheck disable=SC2059
    goroot=$(printf "$root_pattern" "$v")
    gobin="$goroot/bin/go"
    if [[ ! -x $gobin ]]; then
        echo "build.sh: skipping Go $v: $gobin not found"
        continue
    fi
    found=$((found + 1))
    dest="$out_dir/go$v"
    mkdir -p "$dest"

    for variant in full stripped; do
        suffix="" ldflags=""
        if [[ $variant == stripped ]]; then
            suffix="-stripped" ldflags="-s -w"
        fi
        stale=()
        for p in "${programs[@]}"; do
            up_to_date "$dest/$p$suffix" || stale+=("$p")
        done
        if [[ ${#stale[@]} -eq 0 ]]; then
            echo "build.sh: go$v $variant: up to date (${programs[*]})"
            continue
        fi
        echo "build.sh: go$v $variant: building ${stale[*]}"
        tmp=$(mktemp -d "$dest/.build.XXXXXX")
        pkgs=()
        for p in "${stale[@]}"; do pkgs+=("./$p"); done
        start=$SECONDS
        if ! (cd "$src_dir" && GOROOT="$goroot" run_go "$gobin" build -buildvcs=false \
            -ldflags="$ldflags" -o "$tmp/" "${pkgs[@]}"); then
            rm -rf "$tmp"
            echo "build.sh: go$v $variant: build failed" >&2
            exit 1
        fi
        for p in "${stale[@]}"; do
            mv -f "$tmp/$p" "$dest/$p$suffix"
        done
        rm -rf "$tmp"
        echo "build.sh: go$v $variant: built in $((SECONDS - start))s"
    done
done

if [[ $found -eq 0 ]]; then
    echo "build.sh: no Go toolchain found (looked for $versions)" >&2
    exit 1
fi
echo "build.sh: done: $found Go version(s), ${#programs[@]} program(s) in $out_dir"
