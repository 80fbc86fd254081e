#!/usr/bin/env bash
# Installs what is missing on a Debian bookworm machine (as root), fetches the pinned
# tree-sitter runtime and tree-sitter-python grammar from npm, and builds leakfix into build/.
#   BUILD_DIR=...  CMAKE_ARGS=...  to change where and how it builds.
set -euo pipefail
cd "$(dirname "$0")/.."

# Tools: taken from PATH when present (Node.js may come from elsewhere than Debian).
missing=()
for tool in cmake:cmake ninja:ninja-build g++:g++ git:git python3:python3 npm:npm; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool#*:}")
done
# Libraries: Debian's -dev packages.
for p in libfmt-dev libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libgtest-dev libdtl-dev libtomlplusplus-dev \
         llvm-14-dev libclang-14-dev libclang-cpp14-dev clang-14; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ ! -f node_modules/tree-sitter-python/src/parser.c || ! -f node_modules/tree-sitter/vendor/tree-sitter/lib/src/lib.c ]]; then
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi

build_dir=${BUILD_DIR:-build}
# shellcheck disable=SC2086
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo ${CMAKE_ARGS:-} >/dev/null
cmake --build "$build_dir" -j2
