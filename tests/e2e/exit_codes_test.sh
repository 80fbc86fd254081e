#!/usr/bin/env bash
# Exit codes, verb by case, as docs/cli.md gives them: 0 nothing at or above --fail-on, 1 findings
# at or above it, 2 a usage error, a path named that cannot be read, nothing read at all, or a
# write that failed. The findings of what could be read are still reported.
# shellcheck source=harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh" "$@"

cd "$WORK" || exit 1
git init -q .
printf 'def ok(p):\n    with open(p) as f:\n        return f.read()\n' >clean.py
printf 'def bad(p):\n    f = open(p)\n    return f.read()\n' >leaky.py
printf 'x = 1\n\0\0binary' >binary.py

expect() {  # expect CODE VERB ARGS...: runs leakfix in a fresh copy of the files
  local want="$1"
  shift
  rm -rf "$WORK/t" && mkdir "$WORK/t" && cp "$WORK"/*.py "$WORK/t/"
  (cd "$WORK/t" && "$LEAKFIX" "$@" >"$WORK/out" 2>"$WORK/err" </dev/null)
  local got=$?
  check "$* -> $want (got $got)" test "$got" = "$want"
}

for verb in "scan" "check" "fix" "fix --write" "fix --format json" "plan"; do
  # shellcheck disable=SC2086
  {
    expect 0 $verb clean.py
    expect 2 $verb missing.py
    expect 2 $verb clean.py missing.py
    expect 2 $verb binary.py
    expect 2 $verb leaky.py binary.py
  }
done
expect 1 scan leaky.py
expect 1 check leaky.py
expect 1 fix leaky.py
expect 0 fix --write leaky.py
expect 0 plan leaky.py
expect 2 scan --format nosuch clean.py
expect 2 fix --kind nosuch clean.py
expect 2 baseline create missing.py
expect 0 baseline create clean.py leaky.py
# The findings of what could be read are still reported.
(cd "$WORK/t" && "$LEAKFIX" scan leaky.py missing.py --format json >"$WORK/out" 2>/dev/null)
check "a missing path does not hide the others' findings" python3 -c "
import json; d = json.load(open('$WORK/out')); assert [f['file'] for f in d['findings']] == ['leaky.py'], d"
finish
