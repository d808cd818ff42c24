#!/usr/bin/env bash
# Fails when a tracked file names this checkout's absolute path, or any
# path under a top-level work folder of a checkout (the shape the developers'
# checkouts have): such a file makes a test pass in that clone and fail in any
# other folder.
#   scripts/check_no_abs_paths.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
status=0
if hits=$(git grep -n -F -e "$root/" -- . ':!scripts/check_no_abs_paths.sh'); then
    echo "check_no_abs_paths: tracked files name this checkout ($root):" >&2
    echo "$hits" >&2
    status=1
fi
checkout_shape='["'"'"' =]/(work|home/[a-z]+)/[A-Za-z0-9_.-]+/(build|src|tests|scripts)/'
if hits=$(git grep -n -E -e "$checkout_shape" -- . ':!scripts/check_no_abs_paths.sh'); then
    echo "check_no_abs_paths: tracked files name a checkout's absolute path:" >&2
    echo "$hits" >&2
    status=1
fi
[[ $status -eq 0 ]] && echo "check_no_abs_paths: no tracked file names $root"
exit $status
