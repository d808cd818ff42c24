#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, then runs the fuzz
# targets for a bounded time, the unit tests under ASan/UBSan, and finally
# the whole CTest suite (unit, end-to-end with every Go version, format).
# Usage: scripts/test.sh            (FUZZ_SECONDS=N to change the fuzz budget)
set -euo pipefail
cd "$(dirname "$0")/.."
# eBPF and test-program tests fail, not skip, when their needs are missing.
export CI=${CI:-true}
START=$(date +%s)
bash scripts/setup.sh
echo "== build"
bash scripts/build.sh
echo "== fuzz (${FUZZ_SECONDS:-20} s per target)"
bash scripts/run_fuzz.sh "${FUZZ_SECONDS:-20}"
echo "== unit tests under ASan/UBSan"
if [ ! -f build-asan/build.ninja ]; then
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DGCPILOT_SANITIZE=ON \
    -DGCPILOT_BENCH=OFF >/dev/null
fi
ninja -C build-asan gcpilot_unit_tests
# The ASan build does not build the Go test programs: it uses build/'s.
GCPILOT_TESTPROGS_DIR="$PWD/build/testprogs" ASAN_OPTIONS=detect_leaks=1 \
  UBSAN_OPTIONS=print_stacktrace=1 ./build-asan/tests/gcpilot_unit_tests --gtest_brief=1
echo "== all tests (ctest)"
cd build
ctest --output-on-failure -j2 --timeout 600
echo "test.sh: done in $(( $(date +%s) - START )) s"
