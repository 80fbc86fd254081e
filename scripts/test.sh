#!/usr/bin/env bash
# Builds leakfix twice (optimised, then with AddressSanitizer + UndefinedBehaviorSanitizer) and
# runs every test in both builds: unit, fixture, CLI end-to-end, fix, plan, pre-commit.
set -euo pipefail
cd "$(dirname "$0")/.."

# What only the tests need: the pre-commit framework and Neovim (a real LSP client) from Debian,
# and a JSON schema validator with the SARIF 2.1.0 schema (npm, pinned in
# tests/tools/package-lock.json).
need=()
command -v pre-commit >/dev/null 2>&1 || need+=(pre-commit)
command -v nvim >/dev/null 2>&1 || need+=(neovim)
if ((${#need[@]})); then
  echo "test: installing ${need[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }
fi
if [[ ! -x tests/tools/node_modules/.bin/ajv ]]; then
  npm ci --prefix tests/tools --ignore-scripts --no-audit --no-fund --loglevel=error
fi

BUILD_DIR=build scripts/bootstrap.sh
ctest --test-dir build --output-on-failure -j2

BUILD_DIR=build-asan CMAKE_ARGS="-DLEAKFIX_SANITIZE=ON" scripts/bootstrap.sh
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j2
