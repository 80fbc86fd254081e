#!/usr/bin/env bash
# The C++ sample project: build it, run its program, `leakfix fix --write -p build`, build it
# again and run it again. Results and exceptions must be the same; no connection may be
# outstanding and the lock not held after any call, including the throwing ones.
# shellcheck source=../e2e/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/harness.sh" "$@"
cp -r "$SRC/examples/cxx-pool" "$WORK/app"
cd "$WORK/app"
cmake -S . -B build -G Ninja >/dev/null && cmake --build build >/dev/null
check "the sample builds" test -x build/pool_demo
./build/pool_demo >"$WORK/before.txt"
"$LEAKFIX" scan -p build . --format json >"$WORK/scan.json" 2>/dev/null
check "the sample's findings, one of each fixable kind" python3 -c "
import json, sys
kinds = sorted(f['kind'] for f in json.load(open('$WORK/scan.json'))['findings'])
print(kinds)
sys.exit(kinds != ['exception-unsafe', 'leaky-path', 'leaky-path', 'leaky-path', 'manual-safe'])"
"$LEAKFIX" fix --write -p build . >"$WORK/fix.txt" 2>&1
check "five fixes applied" grep -q "Applied 5 fixes in 2 files" "$WORK/fix.txt"
cmake --build build >/dev/null 2>"$WORK/build.txt"
check "the fixed sample builds" test "$?" = 0
./build/pool_demo >"$WORK/after.txt"
check "before: connections were left outstanding" grep -q "outstanding=[1-9]" "$WORK/before.txt"
check "before: the lock was left held" grep -q "locked=1" "$WORK/before.txt"
check "after: nothing outstanding on any path" bash -c "! grep -q 'outstanding=[1-9]' '$WORK/after.txt'"
check "after: the lock is never left held" bash -c "! grep -q 'locked=1' '$WORK/after.txt'"
check "after: every call still runs" test "$(wc -l <"$WORK/after.txt")" = 20
check "same results and exceptions" python3 -c "
import re, sys
strip = lambda l: re.sub(r'; (outstanding|locked)=\d+', '', l)
before = [strip(l) for l in open('$WORK/before.txt')]
after = [strip(l) for l in open('$WORK/after.txt')]
sys.exit(before != after[:len(before)])"
"$LEAKFIX" fix --write -p build . >"$WORK/again.txt" 2>&1
check "a second fix applies nothing" grep -q "Applied 0 fixes" "$WORK/again.txt"
echo "outstanding before: $(grep -o 'outstanding=[1-9]' "$WORK/before.txt" | wc -l) calls, after: $(grep -o 'outstanding=[1-9]' "$WORK/after.txt" | wc -l)"
finish
