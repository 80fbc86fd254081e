#!/usr/bin/env bash
# The interactive review through a pseudo-terminal (script(1)), and the property that fixing every
# fixture and the example app twice re-parses cleanly and changes nothing the second time.
# shellcheck source=../e2e/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/harness.sh" "$@"

# --- review on a terminal: y, n, then q ------------------------------------------------------
mkdir -p "$WORK/review"
cp "$SRC/tests/fix/cases/db.py" "$WORK/review/db.py"
cat >"$WORK/review/routes.py" <<'PY'
from db import get_db_connection


def first(item_id):
    conn = get_db_connection()
    row = conn.execute("SELECT 1").fetchone()
    if row is None:
        return None
    conn.close()
    return row


def second(item_id):
    conn = get_db_connection()
    row = conn.execute("SELECT 2").fetchone()
    conn.close()
    return row


def third(item_id):
    conn = get_db_connection()
    return conn.execute("SELECT 3").fetchone()
PY
cp "$WORK/review/routes.py" "$WORK/original.py"
(cd "$WORK/review" && printf 'y\nn\nq\n' | env -u CI -u PRE_COMMIT TERM=xterm script -qec "'$LEAKFIX' fix routes.py" /dev/null >"$WORK/review.out" 2>&1)
check "review shows the prompt" grep -q "Apply this fix? \[y\]es \[n\]o \[a\]ll in this file \[q\]uit \[e\]dit \[?\]" "$WORK/review.out"
check "review shows kind and function" grep -q "leaky-path in first" "$WORK/review.out"
check "review shows a diff" grep -q "+    with connection_ctx() as conn:" "$WORK/review.out"
check "y applied the first" grep -q "^def first(item_id):" "$WORK/review/routes.py"
check "y applied the first (with)" python3 -c "
import sys; t = open('$WORK/review/routes.py').read()
sys.exit(0 if 'def first(item_id):\n    with connection_ctx() as conn:' in t else 1)"
check "n left the second" python3 -c "
import sys; t = open('$WORK/review/routes.py').read()
sys.exit(0 if 'def second(item_id):\n    conn = get_db_connection()' in t else 1)"
check "q left the third" python3 -c "
import sys; t = open('$WORK/review/routes.py').read()
sys.exit(0 if 'def third(item_id):\n    conn = get_db_connection()' in t else 1)"
check "import extended, acquirer still used" grep -q "^from db import connection_ctx, get_db_connection" "$WORK/review/routes.py"
check "summary after review" grep -q "Applied 1 fix in 1 file; 1 skipped" "$WORK/review.out"
check "review result compiles" python3 -m py_compile "$WORK/review/routes.py"

# One keypress per answer: no Enter needed; the terminal is left as it was.
cp "$WORK/original.py" "$WORK/review/routes.py"
(cd "$WORK/review" && printf 'ynq' | env -u CI -u PRE_COMMIT TERM=xterm script -qec "'$LEAKFIX' fix routes.py; stty -a" /dev/null >"$WORK/keys.out" 2>&1)
check "keys without Enter: y, n, q" grep -q "Applied 1 fix in 1 file; 1 skipped" "$WORK/keys.out"
check "the terminal is back in canonical mode with echo" bash -c "grep -q ' icanon' '$WORK/keys.out' && grep -q ' echo ' '$WORK/keys.out'"

# a: all in this file
cp "$WORK/original.py" "$WORK/review/routes.py"
(cd "$WORK/review" && printf 'a\n' | env -u CI -u PRE_COMMIT TERM=xterm script -qec "'$LEAKFIX' fix routes.py" /dev/null >"$WORK/review.out" 2>&1)
check "a applies every fix of the file" test "$(grep -c 'with connection_ctx() as conn:' "$WORK/review/routes.py")" = 3
check "a: the acquirer import goes" grep -q "^from db import connection_ctx$" "$WORK/review/routes.py"

# No terminal: diffs only, nothing written.
cp "$WORK/original.py" "$WORK/review/routes.py"
(cd "$WORK/review" && "$LEAKFIX" fix routes.py </dev/null >"$WORK/pipe.out" 2>&1)
check "no terminal: nothing written" cmp -s "$WORK/original.py" "$WORK/review/routes.py"
check "no terminal: diff printed" grep -q "^+++ b/routes.py" "$WORK/pipe.out"
check "no terminal: summary says nothing written" grep -q "nothing written" "$WORK/pipe.out"

# A file changed between analysis and write is refused: the editor step changes it under us.
cp "$WORK/original.py" "$WORK/review/routes.py"
cat >"$WORK/editor.sh" <<SH
#!/bin/sh
echo "# changed meanwhile" >> "$WORK/review/routes.py"
SH
chmod +x "$WORK/editor.sh"
(cd "$WORK/review" && printf 'e\n' | env -u CI -u PRE_COMMIT TERM=xterm EDITOR="$WORK/editor.sh" script -qec "'$LEAKFIX' fix routes.py" /dev/null >"$WORK/edit.out" 2>&1)
check "changed file is not written" grep -q "changed since it was analysed" "$WORK/edit.out"
check "changed file keeps its change" grep -q "# changed meanwhile" "$WORK/review/routes.py"
check "changed file keeps its code" grep -q "^    conn = get_db_connection()" "$WORK/review/routes.py"

# --- property: every fixture and the example app, fixed twice ---------------------------------
mkdir -p "$WORK/prop"
cp -r "$SRC/tests/fixtures/python" "$WORK/prop/fixtures"
cp -r "$SRC/examples/sportsbook" "$WORK/prop/app"
cp -r "$SRC/tests/fix/cases" "$WORK/prop/cases"
(cd "$WORK/prop" && "$LEAKFIX" fix --write -q . >/dev/null 2>&1)
find "$WORK/prop" -name '*.py' | sort >"$WORK/files"
check "fixed files compile wherever the originals did" python3 - "$WORK/files" "$WORK/prop" "$SRC" <<'PY'
import sys
files, prop, src = sys.argv[1], sys.argv[2], sys.argv[3]
origin = {"fixtures": "tests/fixtures/python", "app": "examples/sportsbook", "cases": "tests/fix/cases"}
def compiles(path):
    try:
        compile(open(path, "rb").read(), path, "exec")
        return True
    except SyntaxError:
        return False
bad = []
for path in open(files).read().split():
    rel = path[len(prop) + 1:]
    top, rest = rel.split("/", 1)
    if compiles(f"{src}/{origin[top]}/{rest}") and not compiles(path):
        bad.append(path)
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
(cd "$WORK/prop" && find . -name '*.py' -exec md5sum {} + | sort >"$WORK/sums1")
(cd "$WORK/prop" && "$LEAKFIX" fix --write . >"$WORK/second.out" 2>&1)
(cd "$WORK/prop" && find . -name '*.py' -exec md5sum {} + | sort >"$WORK/sums2")
check "second fix changes nothing" cmp -s "$WORK/sums1" "$WORK/sums2"
check "second fix applies nothing" grep -q "Applied 0 fixes" "$WORK/second.out"
(cd "$WORK/prop" && "$LEAKFIX" scan --format json . >"$WORK/after.json" 2>/dev/null)
check "no fixable finding is left" python3 -c "
import json, sys; d = json.load(open('$WORK/after.json'))
left = [f for f in d['findings'] if f['fixable']]
print(*(f\"{f['file']}:{f['line']} {f['kind']}\" for f in left), sep='\n')
sys.exit(1 if left else 0)"

# --- review: a context manager to create is asked for first, as its own hunk ------------------
for answer in y n; do
  rm -rf "$WORK/create_$answer"
  cp -r "$SRC/tests/fix/projects/create_ctx" "$WORK/create_$answer"
  (cd "$WORK/create_$answer" && printf '%s\na\n' "$answer" |
    env -u CI -u PRE_COMMIT TERM=xterm script -qec "'$LEAKFIX' fix app/routes/users.py" /dev/null >"$WORK/create_$answer.out" 2>&1)
done
check "review: the creation is shown first" python3 -c "
import sys; t = open('$WORK/create_y.out').read()
i, j = t.find('create connection_ctx(), a context manager for get_db_connection()'), t.find('Apply this fix?')
sys.exit(0 if 0 <= i < j else 1)"
check "review: the creation's hunk is a diff of app/db.py" grep -q "+++ b/app/db.py" "$WORK/create_y.out"
check "review: y creates it" grep -q "^def connection_ctx(\*args, \*\*kwargs):" "$WORK/create_y/app/db.py"
check "review: and the fixes use it" grep -q "with connection_ctx() as conn:" "$WORK/create_y/app/routes/users.py"
check "review: n leaves app/db.py alone" cmp -s "$SRC/tests/fix/projects/create_ctx/app/db.py" "$WORK/create_n/app/db.py"
check "review: n leaves the fixes that needed it" grep -q "you declined creating connection_ctx() in app/db.py" "$WORK/create_n.out"
check "review: n writes no import of it" bash -c "! grep -q connection_ctx '$WORK/create_n/app/routes/users.py'"

finish
