#!/usr/bin/env bash
# Installs everything gcpilot needs to build, test and benchmark on Debian 12,
# and the Go release toolchains the tests use (scripts/go_toolchains.sh).
#
# Idempotent: when every package is already present it only checks and exits
# (no apt-get update). It adds the bookworm-backports suite by reusing the
# mirror URI already configured in the machine's apt sources (the Go 1.21+
# toolchains and a newer libbpf come from there).
set -euo pipefail

MAIN_PKGS=(
  build-essential cmake ninja-build pkg-config git
  clang-14 clang-format-14 lld-14 libclang-rt-14-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev libfmt-dev libsqlite3-dev
  libelf-dev libdw-dev libcapstone-dev zlib1g-dev bpftool
  golang-1.19-go
  chromium  # the dashboard's browser test (tests/browser)
  procps psmisc util-linux
  wrk bpftrace
  libcpp-httplib-dev prometheus-cpp-dev libtomlplusplus-dev
  prometheus iproute2 curl python3 python3-yaml
)
# libbpf 1.4 (backports): 1.1 lacks BPF_UPROBE (see shared GO_RUNTIME_NOTES).
BACKPORTS_PKGS=(golang-1.21-go golang-1.22-go golang-1.23-go libbpf-dev)

log() { printf 'setup: %s\n' "$*" >&2; }

# Prints "nodejs npm" when npm is missing (the web dashboard is built with npm;
# a node from elsewhere, e.g. NodeSource, that brings npm is kept).
node_missing() {
  if ! command -v npm >/dev/null 2>&1; then
    printf '%s\n' nodejs npm
  fi
}

# Installs the dashboard's npm packages (web/node_modules) when they are
# missing or older than web/package-lock.json. Needs no root.
ensure_web_deps() {
  local web
  web="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/web"
  [ -f "$web/package-lock.json" ] || return 0
  if [ -f "$web/node_modules/.package-lock.json" ] &&
     [ ! "$web/package-lock.json" -nt "$web/node_modules/.package-lock.json" ]; then
    return 0
  fi
  log "installing the web dashboard's npm packages (npm ci in web/)"
  (cd "$web" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}

missing_packages() {
  local pkg
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      printf '%s\n' "$pkg"
    fi
  done
}

# Prints the first Debian mirror URI (not the security archive) configured on
# this machine, from deb822 .sources files or classic one-line lists.
# libbpf-dev >= 1.4 (the version from main, 1.1, is too old).
libbpf_recent_enough() {
  local v
  v=$(dpkg-query -W -f='${Version}' libbpf-dev 2>/dev/null) || return 1
  dpkg --compare-versions "$v" ge "1:1.4"
}

debian_mirror_uri() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri=$(awk '
      /^URIs:/ { uris = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm" && uris !~ /security/) { print uris; exit } }
      /^$/ { uris = "" }' "$f")
    if [ -n "$uri" ]; then printf '%s\n' "$uri"; return 0; fi
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    uri=$(awk '$1 == "deb" && $3 == "bookworm" && $2 !~ /security/ { print $2; exit }' "$f")
    if [ -n "$uri" ]; then printf '%s\n' "$uri"; return 0; fi
  done
  return 1
}

ensure_backports() {
  if grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    return 1  # already configured, nothing changed
  fi
  local uri
  if ! uri=$(debian_mirror_uri); then
    log "cannot find a Debian bookworm mirror in /etc/apt/sources*; add bookworm-backports by hand"
    exit 1
  fi
  log "adding bookworm-backports from the configured mirror"
  cat >/etc/apt/sources.list.d/gcpilot-backports.sources <<SRC
Types: deb
URIs: ${uri}
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  return 0
}

main() {
  if [ "$(id -u)" -ne 0 ]; then
    if [ -z "$(missing_packages "${MAIN_PKGS[@]}" "${BACKPORTS_PKGS[@]}"; node_missing)" ] && libbpf_recent_enough; then
      exit 0
    fi
    log "packages are missing and installing them needs root: re-run as root (or with sudo)"
    exit 1
  fi
  local need_update=0
  if ensure_backports; then need_update=1; fi
  local main_missing bp_missing
  main_missing=$(missing_packages "${MAIN_PKGS[@]}"; node_missing)
  bp_missing=$(missing_packages "${BACKPORTS_PKGS[@]}")
  if ! libbpf_recent_enough; then
    bp_missing=$(printf '%s\n%s\n' "$bp_missing" libbpf-dev libbpf1 | sort -u | grep . || true)
  fi
  if [ -z "$main_missing" ] && [ -z "$bp_missing" ]; then
    exit 0
  fi
  bp_missing=$(echo $bp_missing)
  export DEBIAN_FRONTEND=noninteractive
  log "installing: $(echo $main_missing $bp_missing)"
  apt-get update -qq
  if [ -n "$main_missing" ]; then
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $main_missing >/dev/null
  fi
  if [ -n "$bp_missing" ]; then
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends -t bookworm-backports $bp_missing >/dev/null
  fi
  log "done"
}

# main exits when the packages are in place: run it in a subshell so the
# npm step follows.
(main "$@")
ensure_web_deps
# The Go release toolchains the tests build with (1.24-1.27, and older
# patches), fetched by the go command into the module cache.
bash "$(dirname "${BASH_SOURCE[0]}")/go_toolchains.sh" fetch
