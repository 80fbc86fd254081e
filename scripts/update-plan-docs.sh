#!/usr/bin/env bash
# Regenerates the example app's plan in docs/ and the plan test's golden files from the current
# build. tests/plan/plan_test.py fails when they are stale.
set -euo pipefail
cd "$(dirname "$0")/.."
LEAKFIX="${1:-build/leakfix}"
python3 tests/plan/make_access_log.py >/dev/null
mkdir -p tests/plan/expected
"$LEAKFIX" plan examples/sportsbook -q -o tests/plan/expected/plan.md
"$LEAKFIX" plan examples/sportsbook -q --format json -o tests/plan/expected/plan.json
"$LEAKFIX" plan examples/sportsbook -q --traffic tests/plan/access.log -o tests/plan/expected/plan-traffic.md 2>/dev/null
"$LEAKFIX" plan examples/sportsbook -q --traffic tests/plan/access.log --format json -o tests/plan/expected/plan-traffic.json 2>/dev/null
cp tests/plan/expected/plan-traffic.md docs/plan-example.md
echo "plan docs and golden files regenerated"
