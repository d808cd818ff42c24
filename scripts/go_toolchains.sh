#!/usr/bin/env bash
# The Go toolchains the tests build their programs with, in one place.
#
#   scripts/go_toolchains.sh list [MINOR...]    prints "MINOR VERSION GOROOT" per toolchain
#   scripts/go_toolchains.sh fetch [VERSION...] downloads the missing ones (idempotent)
#   scripts/go_toolchains.sh goroot VERSION     prints one toolchain's GOROOT (fetching it)
#
# Go 1.19 and 1.21-1.23 are Debian's packages (/usr/lib/go-1.XX, installed by
# scripts/setup.sh). Every other toolchain (1.20, 1.24-1.27) is a Go release
# fetched by the go
# command itself from the Go module proxy into the module cache
# (GOTOOLCHAIN=goX.Y.Z go version): no other download. A release toolchain
# needs a go command of 1.21 or newer to fetch it: the first of `go` on PATH,
# /usr/local/go/bin/go and /usr/lib/go-1.2x/bin/go that is one.
#
# The test set (TEST_TOOLCHAINS below) is the newest patch of each minor the
# proxy serves, plus an older patch of a few minors whose runtime layout may
# differ from the newest. Environment: GO_MINORS="1.19 1.24" restricts `list`.
set -euo pipefail

# MINOR VERSION, one per line. "debian" versions come from /usr/lib/go-MINOR.
TEST_TOOLCHAINS="1.19 debian
1.20 go1.20.14
1.21 debian
1.22 debian
1.23 debian
1.24 go1.24.13
1.25 go1.25.14
1.26 go1.26.11
1.27 go1.27.4"
# Older patches, built for the layout tests (not the whole e2e matrix).
EXTRA_TOOLCHAINS="1.24 go1.24.0
1.27 go1.27.0"

die() { echo "go_toolchains.sh: $*" >&2; exit 1; }

# A go command able to fetch release toolchains (1.21+).
bootstrap_go() {
    local g v
    for g in "$(command -v go 2>/dev/null || true)" /usr/local/go/bin/go \
        /usr/lib/go-1.23/bin/go /usr/lib/go-1.22/bin/go /usr/lib/go-1.21/bin/go; do
        [[ -n $g && -x $g ]] || continue
        v=$(GOTOOLCHAIN=local "$g" env GOVERSION 2>/dev/null || true)
        if [[ $v =~ ^go1\.([0-9]+) ]] && ((BASH_REMATCH[1] >= 21)); then
            echo "$g"
            return 0
        fi
    done
    return 1
}

# The GOROOT of release VERSION (go1.X.Y), downloading it when missing.
release_goroot() {
    local version=$1 go root
    go=$(bootstrap_go) || die "no go command of Go 1.21+ to fetch $version (scripts/setup.sh installs one)"
    # The caller's Go settings (GOPROXY=off, a private GOPATH) must not
    # change where toolchains come from or live: the machine's own are used.
    local err
    err=$(mktemp)
    if ! root=$(cd / && env -u GOROOT -u GOFLAGS -u GOPROXY -u GOPATH -u GOMODCACHE -u GOENV \
        -u GOWORK GOTOOLCHAIN="$version" "$go" env GOROOT 2>"$err"); then
        cat "$err" >&2
        rm -f "$err"
        die "cannot fetch $version through the go command (Go module proxy reachable?)"
    fi
    rm -f "$err"
    [[ -x $root/bin/go ]] || die "$version: $root/bin/go missing after the download"
    echo "$root"
}

goroot_of() {
    local minor=$1 version=$2
    if [[ $version == debian ]]; then
        echo "/usr/lib/go-$minor"
    else
        release_goroot "$version"
    fi
}

cmd_list() {
    local minors=${*:-${GO_MINORS:-}} minor version root
    while read -r minor version; do
        if [[ -n $minors && " $minors " != *" $minor "* ]]; then continue; fi
        if [[ $version == debian ]]; then
            root="/usr/lib/go-$minor"
            [[ -x $root/bin/go ]] || { echo "go_toolchains.sh: skipping Go $minor: $root not installed" >&2; continue; }
            version=$("$root/bin/go" env GOVERSION)
        else
            root=$(release_goroot "$version")
        fi
        echo "$minor $version $root"
    done <<<"$TEST_TOOLCHAINS"
}

cmd_fetch() {
    local versions=("$@") minor version
    if [[ ${#versions[@]} -eq 0 ]]; then
        while read -r minor version; do
            [[ $version == debian ]] || versions+=("$version")
        done <<<"$TEST_TOOLCHAINS"$'\n'"$EXTRA_TOOLCHAINS"
    fi
    for version in "${versions[@]}"; do
        release_goroot "$version" >/dev/null
    done
    echo "go_toolchains.sh: ${#versions[@]} release toolchain(s) present" >&2
}

case ${1:-} in
    list) shift; cmd_list "$@" ;;
    fetch) shift; cmd_fetch "$@" ;;
    goroot) [[ $# -eq 2 ]] || die "usage: $0 goroot VERSION"; goroot_of "${2#go}" "$2" ;;
    extra) echo "$EXTRA_TOOLCHAINS" ;;
    *) die "usage: $0 list [MINOR...] | fetch [VERSION...] | goroot VERSION | extra" ;;
esac
