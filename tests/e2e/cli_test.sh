#!/usr/bin/env bash
# End-to-end tests of the leakfix command line: exit codes, output formats and bad input.
# Usage: cli_test.sh LEAKFIX_BINARY SOURCE_DIR
set -uo pipefail
LEAKFIX=$(realpath "$1")
SRC=$(realpath "$2")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export NO_COLOR=1
unset CI PRE_COMMIT
passed=0
failed=0

check() {  # check NAME CONDITION...
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $name (last exit code: ${code:-none})" >&2
    [[ -f $WORK/out ]] && sed 's/^/  out: /' "$WORK/out" | head -20 >&2
    [[ -f $WORK/err ]] && sed 's/^/  err: /' "$WORK/err" | head -20 >&2
  fi
}

run() {  # run ARGS...: stdout in $WORK/out, stderr in $WORK/err, exit code in $code
  (cd "$WORK" && timeout 60 "$LEAKFIX" "$@" >"$WORK/out" 2>"$WORK/err")
  code=$?
}

json() {  # json PYTHON_EXPRESSION over `d`, the parsed stdout
  python3 -c "import json,sys; d=json.load(open('$WORK/out')); sys.exit(0 if ($1) else 1)"
}

mkdir -p "$WORK/clean" "$WORK/leaky" "$WORK/bad"
cat >"$WORK/clean/ok.py" <<'PY'
from db_compat import connection_ctx

def f():
    with connection_ctx() as conn:
        return conn.execute("q").fetchall()
PY
cat >"$WORK/leaky/routes.py" <<'PY'
from db_compat import get_db_connection

def get_logo(tenant):
    conn = get_db_connection()
    row = conn.execute("q", (tenant,)).fetchone()
    if row is None:
        return "", 404
    conn.close()
    return row

def info():
    conn = get_db_connection()
    try:
        return conn.execute("q").fetchall()
    finally:
        conn.close()
PY

# Exit codes
run scan clean
check "clean tree exits 0" test "$code" = 0
check "clean tree says so" grep -q "No findings in 1 file." "$WORK/out"
run scan leaky
check "findings exit 1" test "$code" = 1
check "compiler-style location" grep -q "^leaky/routes.py:4:12: leaky-path: connection from get_db_connection() is not closed on the return at line 7" "$WORK/out"
check "code frame marks the acquisition" grep -q "\^\^\^ acquired here" "$WORK/out"
check "code frame marks the leaking exit" grep -q -- "--- leaks here" "$WORK/out"
check "summary line" grep -qxF 'Found 2 findings (1 leaky-path, 1 manual-safe) in 1 file. 2 fixable with `leakfix fix`.' "$WORK/out"
check "no colour when piped" bash -c "! grep -q $'\x1b' '$WORK/out'"
# GitLab Code Quality: the fields GitLab's report format requires, one unique fingerprint each.
run scan leaky --format gitlab
check "gitlab: exit 1 with findings" test "$code" = 1
check "gitlab: GitLab's required fields and levels" python3 -c "
import json, sys
issues = json.load(open('$WORK/out'))
ok = len(issues) == 2 and all(
    isinstance(i['description'], str) and i['check_name'] in ('leaky-path', 'manual-safe') and isinstance(i['fingerprint'], str)
    and i['severity'] in ('info', 'minor', 'major', 'critical', 'blocker') and i['location']['path'] == 'leaky/routes.py'
    and isinstance(i['location']['lines']['begin'], int) for i in issues)
ok = ok and len({i['fingerprint'] for i in issues}) == len(issues)
sys.exit(0 if ok else 1)"
run scan clean --format gitlab
check "gitlab: no findings is an empty array" json "d == []"
# JUnit XML: a failing test case per finding, grouped by file; a passing one when clean.
run scan leaky --format junit
check "junit: a failure per finding" python3 -c "
import sys, xml.etree.ElementTree as ET
root = ET.parse('$WORK/out').getroot()
cases = root.findall('.//testcase')
sys.exit(0 if root.tag == 'testsuites' and root.get('failures') == '2' and len(cases) == 2
         and all(c.find('failure') is not None and c.get('file') == 'leaky/routes.py' for c in cases) else 1)"
run scan clean --format junit
check "junit: clean tree passes" python3 -c "
import sys, xml.etree.ElementTree as ET
root = ET.parse('$WORK/out').getroot()
sys.exit(0 if root.get('failures') == '0' and len(root.findall('.//testcase')) == 1 else 1)"

# --select / --ignore (kinds or rule ids, comma-separated or repeated), on every verb.
run scan leaky --select leaky-path --format json
check "--select keeps that kind" json "[f['kind'] for f in d['findings']] == ['leaky-path']"
run scan leaky --select manual-safe,never-closed --format json
check "--select takes a comma list" json "[f['kind'] for f in d['findings']] == ['manual-safe']"
run scan leaky --ignore db-connection
check "--ignore a rule: nothing left, exit 0" test "$code" = 0
run scan leaky --select leaky-pth
check "--select an unknown name: exit 2" test "$code" = 2
check "--select an unknown name: did you mean" grep -q "no finding kind or rule of that name (did you mean \`leaky-path\`?)" "$WORK/err"
run fix leaky --diff --ignore manual-safe
check "fix --ignore: only the other fix" bash -c "grep -c '^@@' '$WORK/out' | grep -qx 1"
run plan leaky --select leaky-path
check "plan --select: one phase" bash -c "grep -q '## Phase 1' '$WORK/out' && ! grep -q '## Phase 3' '$WORK/out'"
# Typos get the nearest real name.
run scan leaky --selekt leaky-path
check "unknown option: exit 2" test "$code" = 2
check "unknown option: did you mean" grep -q "unknown option \`--selekt\` for \`scan\` (did you mean \`--select\`?)" "$WORK/err"
run scen leaky
check "unknown command: did you mean" grep -q "unknown command \`scen\` (did you mean \`scan\`?)" "$WORK/err"
run explain leaky-pth
check "unknown kind: did you mean" grep -q "did you mean \`leaky-path\`" "$WORK/err"

run scan leaky --fail-on error --concise
check "--fail-on error still fails on leaky-path" test "$code" = 1
check "--concise is one line per finding" test "$(grep -c '^leaky' "$WORK/out")" = 2
run scan leaky --rules "$SRC/rules/open-file.yaml"
check "--rules replaces the shipped rules" test "$code" = 0
run scan does-not-exist
check "missing path exits 2" test "$code" = 2
check "missing path is named" grep -q "does-not-exist: no such file or directory" "$WORK/err"
run scan
check "no path is a usage error" test "$code" = 2
run scan leaky --format yaml
check "bad option value is a usage error" test "$code" = 2

# JSON contract
run scan leaky --format json
check "json exit 1" test "$code" = 1
check "json shape" json "d['version'] == 1 and d['summary'] == {'files': 1, 'findings': 2, 'by_kind': {'leaky-path': 1, 'manual-safe': 1}}"
check "json finding fields" json "d['findings'][0] == {'rule': 'db-connection', 'kind': 'leaky-path', 'severity': 'error', 'file': 'leaky/routes.py', 'line': 4, 'column': 12, 'end_line': 4, 'end_column': 31, 'function': 'get_logo', 'variable': 'conn', 'route': None, 'exposure': 'internal', 'phase': 1, 'fixable': True, 'reason': None, 'message': 'connection from get_db_connection() is not closed on the return at line 7'}"
check "json keys in the contract's order" json "list(d) == ['version', 'findings', 'errors', 'summary'] and list(d['findings'][0]) == ['rule', 'kind', 'severity', 'file', 'line', 'column', 'end_line', 'end_column', 'function', 'variable', 'route', 'exposure', 'phase', 'fixable', 'reason', 'message']"
check "json manual-safe is phase 3 info" json "d['findings'][1]['kind'] == 'manual-safe' and d['findings'][1]['phase'] == 3 and d['findings'][1]['severity'] == 'info'"

# SARIF
run scan leaky --format sarif
check "sarif exit 1" test "$code" = 1
check "sarif shape" json "d['version'] == '2.1.0' and d['runs'][0]['tool']['driver']['name'] == 'leakfix' and len(d['runs'][0]['results']) == 2 and d['runs'][0]['results'][0]['locations'][0]['physicalLocation']['artifactLocation']['uri'] == 'leaky/routes.py'"

# Deterministic order whatever --jobs is
cp -r "$SRC/examples/sportsbook" "$WORK/app"
run scan app --format json -j 1
cp "$WORK/out" "$WORK/j1"
run scan app --format json -j 2
check "same output with -j1 and -j2" cmp -s "$WORK/j1" "$WORK/out"
run scan app --format json -j 8
check "same output with -j8" cmp -s "$WORK/j1" "$WORK/out"

# Bad input: each is named, reported, skipped; never a crash
printf 'conn = get_db_connection()\n\0\0\0binary' >"$WORK/bad/binary.py"
printf 'conn = get_db_connection()  # caf\xe9\n' >"$WORK/bad/latin1.py"
printf 'def f(:\n    conn = get_db_connection()\n' >"$WORK/bad/syntax.py"
printf 'def f():\n    conn = get_db_connection()\n    return 1\n' >"$WORK/bad/unreadable.py"
chmod 000 "$WORK/bad/unreadable.py"
python3 -c "print('x = (' * 3000 + '1' + ')' * 3000)" >"$WORK/bad/deep.py"
python3 - "$WORK/bad/huge.py" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(20000):
        f.write(f"def f{i}():\n    conn = get_db_connection()\n    conn.close()\n")
PY
run scan bad --format json
check "bad input: run completes with findings" test "$code" = 1
check "binary file named" grep -q "bad/binary.py: skipped: binary file" "$WORK/err"
check "invalid UTF-8 named with line" grep -q "bad/latin1.py:1: skipped: not valid UTF-8" "$WORK/err"
if [[ $(id -u) != 0 ]]; then
  check "unreadable file named" grep -q "bad/unreadable.py: cannot read file" "$WORK/err"
fi
check "syntax error reported as parse-error" json "any(f['kind'] == 'parse-error' and f['file'] == 'bad/syntax.py' for f in d['findings'])"
check "errors array names the files" json "sorted(e['file'] for e in d['errors'])[:2] == ['bad/binary.py', 'bad/latin1.py']"
check "huge file analysed" json "sum(1 for f in d['findings'] if f['file'] == 'bad/huge.py') == 20000"
chmod 644 "$WORK/bad/unreadable.py"
run scan bad/binary.py
check "only unreadable input exits 2" test "$code" = 2

# A first-line comment of 100 KB (the coding cookie and the suppression marker are read by a
# scan; a regular expression over such a line overflowed the stack) is read like any other.
mkdir -p "$WORK/longline"
python3 - "$WORK/longline" <<'PY'
import sys
pad = "x" * 100_000
open(sys.argv[1] + "/first.py", "w").write(f"# {pad}\n# {pad} coding: utf-8\ndef f():\n    conn = get_db_connection()\n    return conn.execute('q').fetchone()\n")
open(sys.argv[1] + "/marker.py", "w").write(f"def g():\n    conn = get_db_connection()  # leakfix: ignore  {pad}\n    return 1\n")
PY
for verb in scan check plan; do
  run $verb longline/first.py longline/marker.py
  check "100 KB comment lines: $verb completes" test "$code" -lt 2
done
run scan longline --format json
check "100 KB comment lines: the leak is reported" json "[f['file'] for f in d['findings']] == ['longline/first.py']"
run fix --diff longline
check "100 KB comment lines: fix completes" test "$code" -lt 2

# [tool.leakfix] in pyproject.toml, found above the working directory; the command line wins.
mkdir -p "$WORK/pyproj/src" "$WORK/pyproj/tests" "$WORK/pyproj/vendor"
cp "$WORK/leaky/routes.py" "$WORK/pyproj/src/routes.py"
cp "$WORK/leaky/routes.py" "$WORK/pyproj/tests/test_routes.py"
cp "$WORK/leaky/routes.py" "$WORK/pyproj/vendor/routes.py"
cat >"$WORK/pyproj/pyproject.toml" <<'TOML'
[project]
name = "demo"

[tool.leakfix]
extend-exclude = ["vendor"]
ignore = ["manual-safe"]
fail-on = "error"

[tool.leakfix.per-file-ignores]
"tests/**" = ["db-connection"]
TOML
(cd "$WORK/pyproj/src" && timeout 60 "$LEAKFIX" scan .. --format json >"$WORK/out" 2>"$WORK/err"); code=$?
check "pyproject: ignore, extend-exclude and per-file-ignores hold" json "[(f['file'], f['kind']) for f in d['findings']] == [('../src/routes.py', 'leaky-path')]"
(cd "$WORK/pyproj" && timeout 60 "$LEAKFIX" scan . --select manual-safe --format json >"$WORK/out" 2>"$WORK/err"); code=$?
check "pyproject: --select on the command line wins" json "[(f['file'], f['kind']) for f in d['findings']] == [('src/routes.py', 'manual-safe')]"
check "pyproject: fail-on error, and manual-safe is info: exit 0" test "$code" = 0
printf '[tool.leakfix]\nexlude = ["x"]\n' >"$WORK/pyproj/pyproject.toml"
(cd "$WORK/pyproj" && timeout 60 "$LEAKFIX" scan . >"$WORK/out" 2>"$WORK/err"); code=$?
check "pyproject: an unknown key is an error, exit 2" test "$code" = 2
check "pyproject: it names the file, the line and the nearest key" grep -q "pyproj/pyproject.toml:2: \[tool.leakfix\] has no key \`exlude\` (did you mean \`exclude\`?)" "$WORK/err"
printf '[tool.leakfix\n' >"$WORK/pyproj/pyproject.toml"
(cd "$WORK/pyproj" && timeout 60 "$LEAKFIX" scan . >"$WORK/out" 2>"$WORK/err"); code=$?
check "pyproject: broken TOML is an error naming the file" bash -c "test $code = 2 && grep -q 'pyproject.toml:1: not valid TOML' '$WORK/err'"

# The same settings in .leakfix.yaml (`settings:` beside `rules:`); not in both places.
mkdir -p "$WORK/yamlproj/src" "$WORK/yamlproj/tests" "$WORK/yamlproj/vendor"
for d in src tests vendor; do cp "$WORK/leaky/routes.py" "$WORK/yamlproj/$d/routes.py"; done
cat >"$WORK/yamlproj/.leakfix.yaml" <<'YAML'
settings:
  extend-exclude: [vendor]
  ignore: [manual-safe]
  fail-on: error
  per-file-ignores:
    "tests/**": [db-connection]
YAML
(cd "$WORK/yamlproj" && timeout 60 "$LEAKFIX" scan . --format json >"$WORK/out" 2>"$WORK/err"); code=$?
check ".leakfix.yaml settings: ignore, extend-exclude and per-file-ignores hold" json "[(f['file'], f['kind']) for f in d['findings']] == [('src/routes.py', 'leaky-path')]"
printf 'settings:\n  selct: [leaky-path]\n' >"$WORK/yamlproj/.leakfix.yaml"
(cd "$WORK/yamlproj" && timeout 60 "$LEAKFIX" scan . >"$WORK/out" 2>"$WORK/err"); code=$?
check ".leakfix.yaml settings: an unknown key names the file, the line and the nearest key" \
  bash -c "test $code = 2 && grep -q 'yamlproj/.leakfix.yaml:2: settings: has no key \`selct\` (did you mean \`select\`?)' '$WORK/err'"
printf 'settings:\n  select: [leaky-path]\n' >"$WORK/yamlproj/.leakfix.yaml"
printf '[tool.leakfix]\nselect = ["leaky-path"]\n' >"$WORK/yamlproj/pyproject.toml"
(cd "$WORK/yamlproj" && timeout 60 "$LEAKFIX" scan . >"$WORK/out" 2>"$WORK/err"); code=$?
check "settings in both pyproject.toml and .leakfix.yaml: an error naming both" \
  bash -c "test $code = 2 && grep -q '.leakfix.yaml: settings are given here and in .*pyproject.toml' '$WORK/err'"

# A refusal names the resource by its rule's noun: a file is not "the connection".
mkdir -p "$WORK/noun"
printf 'def f(p):\n    return open(p).read()\n' >"$WORK/noun/n.py"
run scan noun --format json
check "refusals use the resource's own noun" json "[f['reason'] for f in d['findings']] == ['the file is not held in a name']"

# A C/C++ header or a C file named on the command line is said to be skipped, and why.
mkdir -p "$WORK/named"
printf 'struct Pool { int* acquire(); };\n' >"$WORK/named/pool.h"
printf 'int main(void) { return 0; }\n' >"$WORK/named/main.c"
run scan named/pool.h named/main.c
check "named header: exit 0" test "$code" = 0
check "named header: skipped, and why" grep -q "named/pool.h: skipped: a header is read through the C++ files that include it" "$WORK/err"
check "named C file: skipped, and why" grep -q "named/main.c: skipped: C is not analysed" "$WORK/err"
check "named header: the summary says so" grep -q "No findings in 0 files. 2 named files skipped" "$WORK/out"

# CR-only line endings (valid Python): analysed, and fixed with CR-only endings kept.
mkdir -p "$WORK/cr"
printf 'def bad(p):\r    f = open(p)\r    return f.read()\r' >"$WORK/cr/mac.py"
run scan cr --format json
check "CR-only file: its leak is reported" json "[(f['file'], f['line']) for f in d['findings']] == [('cr/mac.py', 2)]"
run fix --write -q cr
check "CR-only file: fixed with its endings" python3 -c "
import sys; b = open('$WORK/cr/mac.py', 'rb').read()
sys.exit(0 if b == b'def bad(p):\\r    with open(p) as f:\\r        return f.read()\\r' else 1)"

# Broken rule files
mkdir -p "$WORK/rules" "$WORK/proj/sub"
printf 'id: sock\nacquirers: [make_socket\nreleases: {methods: [close]}\n' >"$WORK/rules/broken.yaml"
run scan leaky --rules rules/broken.yaml
check "broken rule exits 2" test "$code" = 2
check "broken rule names file and line" grep -Eq "rules/broken.yaml:[0-9]+: invalid YAML" "$WORK/err"
printf 'id: sock\nacquirers: [make_socket]\nrelease: {methods: [close]}\n' >"$WORK/rules/broken.yaml"
run scan leaky --rules rules/broken.yaml
check "unknown key names its line" grep -q "rules/broken.yaml:3: unknown key \`release\`" "$WORK/err"

# Project rules found upward: .leakfix.yaml adds a pair without recompiling
printf 'id: socket\nresource: socket\nacquirers: [make_socket]\nreleases:\n  methods: [close]\n' >"$WORK/proj/.leakfix.yaml"
printf 'def ping():\n    s = make_socket()\n    s.send(b"x")\n' >"$WORK/proj/sub/client.py"
(cd "$WORK/proj/sub" && "$LEAKFIX" scan client.py --concise >"$WORK/out" 2>"$WORK/err")
check "project rule applies" grep -q "client.py:2:9: never-closed: socket from make_socket() is never closed" "$WORK/out"

# Suppression comments
printf 'def f():\n    conn = get_db_connection()  # leakfix: ignore[db-connection]\n    return 1\n' >"$WORK/clean/suppressed.py"
run scan clean
check "suppressed finding is not reported" test "$code" = 0

# explain
run explain leaky-path
check "explain prints the kind's page" grep -q "## Why it leaks" "$WORK/out"
run explain nonsense
check "explain of an unknown kind exits 2" test "$code" = 2

# Progress is never printed when stderr is not a terminal
run scan app
check "no progress line when piped" bash -c "! grep -q 'files analysed' '$WORK/err'"

# Parsing only the statements that matter changes nothing in the report.
run scan app --format json
cp "$WORK/out" "$WORK/partial.json"
(cd "$WORK" && LEAKFIX_WHOLE_FILES=1 timeout 60 "$LEAKFIX" scan app --format json >"$WORK/whole.json" 2>/dev/null)
check "the same report with every statement parsed (LEAKFIX_WHOLE_FILES=1)" cmp -s "$WORK/partial.json" "$WORK/whole.json"

# On a terminal (a pseudo-terminal from script(1)): progress and colour; not under CI or --quiet
if command -v script >/dev/null 2>&1; then
  (cd "$WORK" && script -qec "env -u NO_COLOR '$LEAKFIX' scan app --concise" /dev/null >"$WORK/tty" 2>&1)
  check "progress line on a terminal" grep -q "files analysed" "$WORK/tty"
  check "colour on a terminal" grep -q $'\x1b\[' "$WORK/tty"
  (cd "$WORK" && script -qec "env -u NO_COLOR CI=true '$LEAKFIX' scan app --concise" /dev/null >"$WORK/tty" 2>&1)
  check "no progress under CI" bash -c "! grep -q 'files analysed' '$WORK/tty'"
  (cd "$WORK" && script -qec "'$LEAKFIX' scan app --concise --quiet" /dev/null >"$WORK/tty" 2>&1)
  check "no progress with --quiet" bash -c "! grep -q 'files analysed' '$WORK/tty'"
  check "NO_COLOR turns colour off" bash -c "! grep -q $'\x1b\\[1' '$WORK/tty'"
  # A large tree: the walk says how far it got before the first file is analysed.
  mkdir -p "$WORK/many"
  for i in $(seq 1 600); do echo "x = $i" >"$WORK/many/m$i.py"; done
  (cd "$WORK" && script -qec "'$LEAKFIX' scan many --concise" /dev/null >"$WORK/tty" 2>&1)
  check "progress while a large tree is walked, before analysis" \
    python3 -c "import sys; t = open(sys.argv[1], errors='replace').read(); a = t.find('512 files found'); b = t.find('files analysed'); sys.exit(not (0 <= a < b))" "$WORK/tty"
fi

echo "$passed passed, $failed failed"
test "$failed" = 0
