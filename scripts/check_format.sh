#!/usr/bin/env bash
# Fails when any C/C++ file tracked or new in the repository is not formatted
# as .clang-format says (clang-format 14, Google base). Fix with:
#   scripts/check_format.sh --fix
set -euo pipefail
cd "$(dirname "$0")/.."
CF=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$CF" ]; then echo "check_format: clang-format not installed (run scripts/setup.sh)" >&2; exit 1; fi
mapfile -t files < <(git ls-files --cached --others --exclude-standard -- \
  '*.cc' '*.h' '*.c' '*.cpp' | grep -v '^bpf/include/vmlinux' | while read -r f; do [ -f "$f" ] && echo "$f"; done)
[ ${#files[@]} -eq 0 ] && exit 0
if [ "${1:-}" = "--fix" ]; then
  "$CF" -i "${files[@]}"
  exit 0
fi
bad=0
for f in "${files[@]}"; do
  if ! "$CF" --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "not formatted: $f" >&2
    bad=1
  fi
done
if [ $bad -ne 0 ]; then echo "check_format: run scripts/check_format.sh --fix" >&2; exit 1; fi
echo "check_format: ${#files[@]} files formatted"
