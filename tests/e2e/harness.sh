# Sourced by the shell tests: `harness.sh LEAKFIX SRC` gives $LEAKFIX (absolute), $SRC (the
# repository), a scratch folder $WORK removed at exit, `check NAME COMMAND...` and `finish`.
set -u
LEAKFIX="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
SRC="$(cd "$2" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
pass=0
fail=0
check() {
  local name="$1"
  shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $name"; fi
}
finish() {
  echo "$pass passed, $fail failed"
  test "$fail" = 0
}
