#!/usr/bin/env bash
# leakfix in commits: the real pre-commit framework with the repository's .pre-commit-hooks.yaml,
# `leakfix hook install`, baselines that survive edits, --diff-base, and SARIF against the
# SARIF 2.1.0 schema.
# shellcheck source=../e2e/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh" "$@"
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.com
export GIT_CONFIG_NOSYSTEM=1 HOME="$WORK/home"
mkdir -p "$HOME" "$WORK/bin"
git config --global init.defaultBranch main
ln -s "$LEAKFIX" "$WORK/bin/leakfix"
export PATH="$WORK/bin:$PATH"
unset CI PRE_COMMIT

leaky() {
  cat <<'PY'
from db import get_db_connection


def get_logo(tenant):
    conn = get_db_connection()
    row = conn.execute("SELECT logo FROM branding WHERE tenant = %s", (tenant,)).fetchone()
    if row is None:
        return None
    conn.close()
    return row[0]
PY
}
clean() {
  cat <<'PY'
from db import connection_ctx


def get_theme(tenant):
    with connection_ctx() as conn:
        return conn.execute("SELECT theme FROM themes WHERE tenant = %s", (tenant,)).fetchone()
PY
}
db_module() {
  cat <<'PY'
from contextlib import contextmanager


def get_db_connection():
    raise NotImplementedError


@contextmanager
def connection_ctx():
    conn = get_db_connection()
    try:
        yield conn
    finally:
        conn.close()
PY
}

if command -v pre-commit >/dev/null; then
  # The hooks repository: this repository's .pre-commit-hooks.yaml, committed on its own.
  mkdir -p "$WORK/hooks" && cp "$SRC/.pre-commit-hooks.yaml" "$WORK/hooks/" &&
    git -C "$WORK/hooks" init -q && git -C "$WORK/hooks" add -A && git -C "$WORK/hooks" commit -qm hooks
  REV="$(git -C "$WORK/hooks" rev-parse HEAD)"
  export PRE_COMMIT_HOME="$WORK/pre-commit-cache"

  mkdir -p "$WORK/app" && cd "$WORK/app" && git init -q
  cat >.pre-commit-config.yaml <<YAML
repos:
  - repo: $WORK/hooks
    rev: $REV
    hooks:
      - id: leakfix
YAML
  db_module >db.py
  clean >theme.py
  git add -A && git commit -qm "app" --no-verify
  pre-commit install >/dev/null 2>&1
  check "pre-commit installed" test -x .git/hooks/pre-commit

  clean >themes2.py
  git add themes2.py
  git commit -qm "clean change" >"$WORK/out" 2>&1
  check "a clean commit passes" test "$?" = 0

  leaky >branding.py
  git add branding.py
  git commit -qm "adds a leak" >"$WORK/out" 2>&1
  code=$?
  check "a commit adding a leak is refused" test "$code" != 0
  check "the refusal names the leak" grep -q "branding.py:5:12: leaky-path: connection from get_db_connection() is not closed on the return at line 8" "$WORK/out"
  check "the hook output has no colour" bash -c "! grep -q $'\x1b\\[' '$WORK/out'"

  # An old leak, recorded in the baseline, does not block a commit touching its file.
  git commit -qm "old leak" --no-verify
  leakfix baseline create -q
  git add .leakfix-baseline.json && git commit -qm baseline --no-verify
  sed -i '1i # a comment above the old leak' branding.py
  printf '\n\ndef unrelated():\n    return 1\n' >>branding.py
  git add branding.py
  git commit -qm "touches the file of a baselined leak" >"$WORK/out" 2>&1
  check "a commit touching a baselined leak passes" test "$?" = 0

  # The fix hook rewrites, fails once, then passes.
  cat >>.pre-commit-config.yaml <<YAML
      - id: leakfix-fix
YAML
  git add .pre-commit-config.yaml && git commit -qm "fix hook" --no-verify
  leaky | sed 's/get_logo/get_banner/' >banner.py
  git add banner.py
  git commit -qm "banner" >"$WORK/out" 2>&1
  check "the fix hook fails when it rewrote" test "$?" != 0
  check "the fix hook rewrote the file" grep -q "with connection_ctx() as conn:" banner.py
  check "pre-commit says files were modified" grep -q "files were modified by this hook" "$WORK/out"
  git add banner.py
  git commit -qm "banner, fixed" >"$WORK/out" 2>&1
  check "after the rewrite the commit passes" test "$?" = 0
  cd "$SRC"
else
  echo "FAIL: pre-commit is not installed (apt install pre-commit)"
  fail=$((fail + 1))
fi

# --- leakfix hook install: a plain git hook -------------------------------------------------
mkdir -p "$WORK/plain" && cd "$WORK/plain" && git init -q
db_module >db.py && clean >theme.py && git add -A && git commit -qm app
leakfix hook install >"$WORK/out" 2>&1
check "hook install writes the hook" test -x .git/hooks/pre-commit
leaky >branding.py && git add branding.py
git commit -qm leak >"$WORK/out" 2>&1
check "plain hook refuses a leak" test "$?" != 0
check "plain hook names it" grep -q "branding.py:5:12: leaky-path" "$WORK/out"
git reset -q HEAD branding.py && rm branding.py
clean | sed 's/get_theme/get_colour/' >colour.py && git add colour.py
git commit -qm clean >"$WORK/out" 2>&1
check "plain hook passes a clean commit" test "$?" = 0
printf '#!/bin/sh\necho mine\n' >.git/hooks/pre-commit
leakfix hook install >"$WORK/out" 2>&1
check "hook install keeps a foreign hook" test "$?" = 2
check "hook install says why" grep -q "is not leakfix's" "$WORK/out"
cd "$SRC"

# --- check sees wrappers defined in files it was not given -----------------------------------
mkdir -p "$WORK/wrap" && cd "$WORK/wrap" && git init -q
db_module >db.py
printf 'from db import get_db_connection\n\n\ndef open_db():\n    return get_db_connection()\n' >dbutil.py
cat >route.py <<'PY'
from dbutil import open_db


def stats():
    conn = open_db()
    return conn.execute("SELECT count(*) FROM players").fetchone()
PY
git add -A && git commit -qm app --no-verify
PRE_COMMIT=1 leakfix check route.py >"$WORK/out" 2>&1
check "check: exit 1 for a leak through a wrapper in another file" test "$?" = 1
check "check: the wrapper's leak is named" grep -q "route.py:5:12: never-closed: connection from open_db()" "$WORK/out"
check "check: only the given file is reported" bash -c "! grep -q '^dbutil.py' '$WORK/out'"
check "check: no colour under PRE_COMMIT" bash -c "! grep -q $'\x1b\\[' '$WORK/out'"
leakfix check . >"$WORK/out" 2>&1
check "check: a folder is a usage error" test "$?" = 2
cd "$SRC"

# --- baselines survive lines moving; a changed statement is new -----------------------------
mkdir -p "$WORK/base" && cd "$WORK/base"
leaky >a.py
leakfix baseline create -q
check "baseline: nothing new" leakfix scan a.py --baseline .leakfix-baseline.json -q
sed -i '1i # moved down\n# twice' a.py
check "baseline: lines inserted above, still baselined" leakfix scan a.py --baseline .leakfix-baseline.json -q
sed -i 's/    conn = get_db_connection()/    conn = get_db_connection(timeout=5)/' a.py
leakfix scan a.py --baseline .leakfix-baseline.json --concise >"$WORK/out" 2>"$WORK/err"
check "baseline: a changed statement is new" grep -q "a.py:7:12: leaky-path" "$WORK/out"
check "baseline: the old entry is stale" grep -q "1 baseline entry no longer matches" "$WORK/err"
leakfix baseline prune -q
check "prune drops the stale entry" python3 -c "import json,sys; sys.exit(len(json.load(open('.leakfix-baseline.json'))['entries']) != 0)"
leakfix baseline update -q
check "update records the new one" python3 -c "import json,sys; sys.exit(len(json.load(open('.leakfix-baseline.json'))['entries']) != 1)"
printf '{"entries": [' >broken.json
leakfix scan a.py --baseline broken.json >"$WORK/out" 2>&1
check "broken baseline: exit 2 naming it" test "$?" = 2
check "broken baseline named" grep -q "broken.json" "$WORK/out"
cd "$SRC"

# --- --diff-base: only what changed since the merge base ------------------------------------
mkdir -p "$WORK/diff" && cd "$WORK/diff" && git init -q
leaky >old.py && git add -A && git commit -qm base && git branch base
git checkout -q -b topic
leaky | sed 's/get_logo/get_icon/' >new.py
printf '\n\ndef other():\n    return 2\n' >>old.py
git add -A && git commit -qm topic
leaky | sed 's/get_logo/get_flag/' >untracked.py
leakfix scan . --diff-base base --format json >"$WORK/out" 2>&1
check "diff-base: the new file's leak and the untracked one, not the old one" python3 -c "
import json, sys
files = sorted(f['file'] for f in json.load(open('$WORK/out'))['findings'])
sys.exit([f.split('/')[-1] for f in files] != ['new.py', 'untracked.py'])"
leakfix scan . --diff-base no-such-ref >"$WORK/out" 2>&1
check "diff-base: a bad ref is exit 2" test "$?" = 2
git status --porcelain >"$WORK/status"
check "diff-base: the work tree is untouched" grep -q "?? untracked.py" "$WORK/status"
cd "$SRC"

# --- SARIF: fingerprints, baseline state, and the SARIF 2.1.0 schema -------------------------
cd "$WORK/base"
leakfix scan a.py --format sarif --baseline .leakfix-baseline.json >"$WORK/base.json" 2>/dev/null
leaky | sed 's/get_logo/get_icon/' >b.py
leakfix scan a.py b.py --format sarif --baseline .leakfix-baseline.json >"$WORK/new.json" 2>/dev/null
check "sarif: partialFingerprints and baselineState" python3 -c "
import json, sys
r = json.load(open('$WORK/new.json'))['runs'][0]['results']
sys.exit(not (len(r) == 1 and r[0]['baselineState'] == 'new' and len(r[0]['partialFingerprints']['leakfixFinding/v1']) == 16))"
leakfix scan "$SRC/examples/sportsbook" --format sarif >"$WORK/app.json" 2>/dev/null
cd "$SRC"
TOOLS="$SRC/tests/tools"
if [ -x "$TOOLS/node_modules/.bin/ajv" ]; then
  SCHEMA="$TOOLS/node_modules/@microsoft/sarif-multitool-linux/sarif-2.1.0.json"
  for f in app new base; do
    check "sarif $f validates against the SARIF 2.1.0 schema" \
      "$TOOLS/node_modules/.bin/ajv" validate --spec=draft2020 --strict=false -c ajv-formats -s "$SCHEMA" -d "$WORK/$f.json"
  done
else
  echo "FAIL: the schema validator is not installed (npm ci --ignore-scripts --prefix tests/tools)"
  fail=$((fail + 1))
fi

finish
