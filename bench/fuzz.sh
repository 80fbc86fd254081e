#!/usr/bin/env bash
# Coverage-guided fuzzing of leakfix's fuzz target (tests/fuzz/fuzz_target.cpp) with libFuzzer,
# for as long as asked; the test suite runs the same target for 20 seconds without coverage.
#   bash bench/fuzz.sh [SECONDS (default 600)] [libFuzzer options...]
# Builds build-fuzz/ with clang 14 (libFuzzer's coverage, AddressSanitizer, UBSan), starts from
# the test suite's seeds and regression inputs, keeps the inputs it learns from in
# bench/out/fuzz-corpus/, and writes an input that crashes, hangs or breaks a promise of the
# target to bench/out/fuzz-crash-*. Once such a bug is fixed, its input goes to
# tests/fuzz/regressions/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
missing=()
for p in clang-14 libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
[[ -f node_modules/tree-sitter-python/src/parser.c ]] || npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DLEAKFIX_LIBFUZZER=ON -DLEAKFIX_TESTS=OFF -DLEAKFIX_CXX=OFF >/dev/null
cmake --build build-fuzz -j2 --target leakfix-fuzz
mkdir -p bench/out/fuzz-corpus
exec build-fuzz/tests/fuzz/leakfix-fuzz -max_total_time="$seconds" -timeout=20 -max_len=65536 -print_final_stats=1 \
  -artifact_prefix=bench/out/fuzz- "$@" \
  bench/out/fuzz-corpus tests/fuzz/corpus tests/fuzz/regressions tests/fixtures/python tests/fix/cases
