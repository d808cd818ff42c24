#!/usr/bin/env bash
# Regenerates src/golang/runtime_layout_table.inc: for every Go toolchain of
# the list, builds four small programs (an empty main, the same as a PIE, one
# that links more of the standard library, and that one again with -pgo from
# a CPU profile of GC-heavy work) with symbols and DWARF, and runs
# tools/gen_runtime_layout on them, which records the runtime's member
# offsets (from DWARF) and the code references that locate the runtime
# globals in stripped binaries (kept only when present in all four builds,
# so they do not depend on the user program or on -pgo).
#
#   scripts/gen_runtime_layout.sh [BUILD_DIR]     (default: build)
#
# BUILD_DIR must be a configured CMake build dir; the tool is built there.
# Environment: GO_VERSIONS restricts the toolchains: "1.19" (Debian's
# /usr/lib/go-1.19), "go1.24.3" (a release, fetched by scripts/go_toolchains.sh),
# or "all" (default): Debian's 1.19 and 1.21-1.23, then every release from go1.20.0 on that
# the Go module proxy serves (go list -m -versions golang.org/toolchain).
# Rows of each version are cached under BUILD_DIR/.gen_runtime_layout/rows,
# so a rerun only builds new versions (KEEP_TOOLCHAINS=0 deletes each fetched
# toolchain after use, to save disk). Offline but for the toolchains.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=$(cd "${1:-$repo/build}" && pwd)
versions=${GO_VERSIONS:-all}
toolchains_sh="$repo/scripts/go_toolchains.sh"
if [[ $versions == all ]]; then
    bootstrap=$(command -v go || echo /usr/local/go/bin/go)
    releases=$(cd / && env -u GOFLAGS -u GOPROXY GOTOOLCHAIN=local "$bootstrap" list -m -versions \
        golang.org/toolchain | tr ' ' '\n' | sed -n 's/^v0\.0\.1-\(go1\.[0-9]*\.[0-9]*\)\.linux-amd64$/\1/p' |
        awk -F. '$2 >= 20' | sort -t. -k2,2n -k3,3n)
    versions="1.19 1.21 1.22 1.23 $(echo $releases)"
fi
out="$repo/src/golang/runtime_layout_table.inc"

ninja -C "$build_dir" -j2 gen_runtime_layout >/dev/null
tool="$build_dir/tools/gen_runtime_layout"

work="$build_dir/.gen_runtime_layout"
mkdir -p "$work/src/empty" "$work/src/bigger" "$work/src/pgoprof" "$work/rows"
cp "$repo/tests/testprogs/internal/pgoprof/main.go" "$work/src/pgoprof/main.go"
export GOCACHE="$work/.gocache" GOPATH="$work/.gopath" GOPROXY=off GOFLAGS=-mod=mod
export GOTOOLCHAIN=local GOWORK=off GOENV=off CGO_ENABLED=0
unset GOOS GOARCH GOROOT GOEXPERIMENT GODEBUG
cat >"$work/src/go.mod" <<'GO'
module gcpilot.dev/genlayout

go 1.19
GO
echo 'package main

func main() {}' >"$work/src/empty/main.go"
cat >"$work/src/bigger/main.go" <<'GO'
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
)

func main() {
	debug.SetGCPercent(50)
	debug.SetMemoryLimit(1 << 30)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = json.Marshal(make([]int, 1000)) }()
	}
	wg.Wait()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintln(os.Stderr, ms.NumGC, runtime.GOMAXPROCS(0))
}
GO

# rows_of VERSION_ITEM: writes $work/rows/goX.Y.Z.inc (cached).
rows_of() {
    local item=$1 goroot gobin v dest
    if [[ $item == go* ]]; then
        if [[ -f $work/rows/$item.inc ]]; then return 0; fi
        goroot=$(bash "$toolchains_sh" goroot "$item")
    else
        goroot="/usr/lib/go-$item"
    fi
    gobin="$goroot/bin/go"
    if [[ ! -x $gobin ]]; then
        echo "gen_runtime_layout.sh: skipping Go $item: $gobin not found" >&2
        return 0
    fi
    v=$(GOROOT="$goroot" "$gobin" env GOVERSION)
    dest="$work/$v"
    mkdir -p "$dest"
    (cd "$work/src" &&
        GOROOT="$goroot" "$gobin" build -buildvcs=false -o "$dest/empty" ./empty &&
        GOROOT="$goroot" "$gobin" build -buildvcs=false -buildmode=pie -o "$dest/empty-pie" ./empty &&
        GOROOT="$goroot" "$gobin" build -buildvcs=false -o "$dest/bigger" ./bigger)
    local inputs=("$dest/empty" "$dest/empty-pie" "$dest/bigger")
    if [[ $v =~ ^go1\.([0-9]+) ]] && ((BASH_REMATCH[1] >= 21)); then
        (cd "$work/src" &&
            GOROOT="$goroot" "$gobin" build -buildvcs=false -o "$dest/pgoprof" ./pgoprof &&
            "$dest/pgoprof" "$dest/pgo.pprof" &&
            GOROOT="$goroot" "$gobin" build -buildvcs=false -pgo="$dest/pgo.pprof" \
                -o "$dest/bigger-pgo" ./bigger)
        inputs+=("$dest/bigger-pgo")
    fi
    "$tool" "${inputs[@]}" >"$work/rows/$v.inc.tmp"
    mv -f "$work/rows/$v.inc.tmp" "$work/rows/$v.inc"
    rm -rf "$dest"
    # Only a toolchain the go command fetched into the module cache is
    # deleted: never an installed Go (the bootstrap go reports its own
    # GOROOT for its own version).
    if [[ $item == go* && ${KEEP_TOOLCHAINS:-1} == 0 &&
        $goroot == */pkg/mod/golang.org/toolchain@v0.0.1-go*.linux-amd64 ]]; then
        chmod -R u+w "$goroot" && rm -rf "$goroot"
    fi
    echo "gen_runtime_layout.sh: $v"
}

for item in $versions; do
    rows_of "$item"
done

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
{
    echo "// Generated by scripts/gen_runtime_layout.sh from the Go toolchains;"
    echo "// do not edit. Rows: see src/golang/runtime_layout_table.h."
} >"$tmp"
for rows in $(cd "$work/rows" && ls -- *.inc | sort -t. -k2,2n -k3,3n); do
    cat "$work/rows/$rows" >>"$tmp"
done
chmod 644 "$tmp"
mv -f "$tmp" "$out"
trap - EXIT
echo "gen_runtime_layout.sh: wrote $out ($(ls "$work/rows/"*.inc | wc -l) versions)"
