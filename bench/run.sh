#!/usr/bin/env bash
# Builds leakfix and ts-parse, installs ast-grep from npm into bench/out, and runs bench/run.py.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh >/dev/null
mkdir -p bench/out
if [[ ! -x bench/out/node_modules/.bin/ast-grep ]]; then
  npm install --prefix bench/out --no-audit --no-fund --loglevel=error @ast-grep/cli@0.51.1 >/dev/null
fi
exec python3 bench/run.py "$@"
