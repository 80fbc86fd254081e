#!/usr/bin/env bash
# Builds leakfix twice (optimised, then with AddressSanitizer + UndefinedBehaviorSanitizer) and
# runs every test in both builds: unit, fixture, CLI end-to-end.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=build scripts/bootstrap.sh
ctest --test-dir build --output-on-failure -j2

BUILD_DIR=build-asan CMAKE_ARGS="-DLEAKFIX_SANITIZE=ON" scripts/bootstrap.sh
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j2
