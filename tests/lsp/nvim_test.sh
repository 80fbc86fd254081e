#!/bin/bash
# leakfix server under a real LSP client: Neovim's built-in one, headless. Opens a route of the
# example app, checks the diagnostic and the hover, applies the fix code action, writes the file
# and checks the file: it compiles, `leakfix scan` no longer reports the leak, and it is what
# `leakfix fix --write` makes of it.
# usage: nvim_test.sh LEAKFIX SOURCE_DIR
set -u
leakfix=$(realpath "$1"); src=$(realpath "$2")
if ! command -v nvim >/dev/null; then
  echo "nvim is not installed (apt-get install neovim)"; exit 1
fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cp -r "$src/examples/sportsbook" "$work/app"
cp -r "$src/examples/sportsbook" "$work/expected"
file="$work/app/src/routes/branding.py"
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }

LEAKFIX="$leakfix" ROOT="$work/app" FILE="$file" OUT="$work/report" \
  timeout 120 nvim --headless --clean -n -c "luafile $src/tests/lsp/nvim_client.lua" >"$work/nvim.log" 2>&1
status=$?
cat "$work/report" 2>/dev/null | sed 's/^/  /'
check "nvim ran the script to its end (status $status)" '[ $status -eq 0 ]'
check "the first diagnostic is the leaky-path of get_branding (line 11, column 12)" \
  'grep -q "^first: 11:12 leaky-path leakfix$" "$work/report"'
check "hover shows the kind's documentation" 'grep -q "^hover_has_doc: true$" "$work/report"'
check "fix and ignore actions are offered" 'grep -q "^actions: Fix: with connection_ctx() as conn:.*Ignore this leaky-path" "$work/report"'
check "after the fix, the diagnostic is gone" 'grep -q "^gone_after_fix: true$" "$work/report"'
check "the written file compiles" 'python3 -c "import sys; compile(open(sys.argv[1]).read(), sys.argv[1], \"exec\")" "$file"'
check "scan no longer reports the fixed leak" \
  '! (cd "$work/app" && "$leakfix" scan src/routes/branding.py --format json | grep -q "\"line\": 11,")'
# fix --write of the same one finding, for comparison.
(cd "$work/expected" && "$leakfix" fix --write -q src/routes/branding.py --kind leaky-path >/dev/null 2>&1)
check "the file is what \`leakfix fix --write --kind leaky-path\` makes of it" 'cmp -s "$file" "$work/expected/src/routes/branding.py"'
[ $fail -eq 0 ] || { echo "--- nvim output"; cat "$work/nvim.log"; }
exit $fail
