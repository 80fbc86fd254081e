#!/usr/bin/env bash
# Everything leakfix writes goes through one safe path (lib/core/safe_write): symlinks are written
# through, mode, owner and group are kept, hard-linked and read-only files are refused, files it
# did not create are never touched, and a failed write leaves the old file and exits 2.
# shellcheck source=harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh" "$@"

cd "$WORK" || exit 1
leaky() { printf 'def bad(p):\n    f = open(p)\n    data = f.read()\n    f.close()\n    return data\n' >"$1"; }

# A symlink: its target is fixed, the link stays a link.
mkdir -p link/real && leaky link/real/mod.py && ln -s real/mod.py link/alias.py
"$LEAKFIX" fix --write -q link/alias.py >/dev/null 2>&1
check "symlink stays a symlink" test -L link/alias.py
check "symlink target is fixed" grep -q "with open(p) as f:" link/real/mod.py

# Mode, owner and group are kept.
mkdir -p meta && leaky meta/mod.py && chmod 0640 meta/mod.py
if [[ $(id -u) == 0 ]]; then chown nobody:nogroup meta/mod.py; fi
before=$(stat -c '%a %U %G' meta/mod.py)
"$LEAKFIX" fix --write -q meta/mod.py >/dev/null 2>&1
check "mode, owner and group kept ($before)" test "$(stat -c '%a %U %G' meta/mod.py)" = "$before"
check "the file is fixed" grep -q "with open(p) as f:" meta/mod.py
check "no temporary left beside it" test "$(ls -A meta)" = "mod.py"

# A hard-linked file is refused: a rename would split the links.
mkdir -p hard && leaky hard/mod.py && ln hard/mod.py hard/other.py && cp hard/mod.py hard.orig
"$LEAKFIX" fix --write hard/mod.py >out 2>err
code=$?
check "hard link: exit 2" test "$code" = 2
check "hard link: named, with the reason" grep -q "hard/mod.py: not written: it has 2 hard links" err
check "hard link: both names unchanged" bash -c "cmp -s hard/mod.py hard.orig && cmp -s hard/other.py hard.orig"

# Read-only for a user who is not root: refused, unchanged.
if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null; then
  chmod 0755 "$WORK"  # nobody must reach the file to be refused for its bits
  mkdir -p ro && leaky ro/mod.py && chmod 0444 ro/mod.py && chmod 0777 ro && cp ro/mod.py ro.orig
  setpriv --reuid=nobody --regid=nogroup --clear-groups "$LEAKFIX" fix --write ro/mod.py >out 2>err
  code=$?
  check "read-only, not root: exit 2" test "$code" = 2
  check "read-only, not root: named" grep -q "ro/mod.py: not written: you may not write it" err
  check "read-only, not root: unchanged" cmp -s ro/mod.py ro.orig
fi

# The baseline never touches a file it did not create, nor leaves one behind.
mkdir -p base && leaky base/mod.py && echo mine >base/.leakfix-baseline.json.tmp
(cd base && "$LEAKFIX" baseline create -q . >/dev/null 2>&1)
check "baseline: <out>.tmp is not leakfix's and is left alone" grep -qx mine base/.leakfix-baseline.json.tmp
check "baseline: written" grep -q '"entries"' base/.leakfix-baseline.json
mkdir -p base/folder.json
(cd base && "$LEAKFIX" baseline create -q -o folder.json . >/dev/null 2>"$WORK/err")
code=$?
check "baseline -o a folder: exit 2" test "$code" = 2
check "baseline -o a folder: nothing left behind" test -z "$(ls -A base/folder.json)"

# A full disk: every earlier file intact, exit 2 (needs a small tmpfs, which root can mount).
if [[ $(id -u) == 0 ]] && mkdir -p full && mount -t tmpfs -o size=64k tmpfs full 2>/dev/null; then
  leaky full/mod.py
  (cd full && "$LEAKFIX" baseline create -q . >/dev/null 2>&1 && "$LEAKFIX" plan -q . -o PLAN.md >/dev/null 2>&1)
  cp full/.leakfix-baseline.json base.before && cp full/PLAN.md plan.before
  head -c 100000 /dev/zero >full/filler 2>/dev/null
  (cd full && "$LEAKFIX" baseline update -q . >/dev/null 2>"$WORK/err")
  code=$?
  check "full disk: baseline update exits 2" test "$code" = 2
  check "full disk: the baseline is intact" cmp -s full/.leakfix-baseline.json base.before
  printf '\n# more\n' >>full/mod.py 2>/dev/null || true
  (cd full && "$LEAKFIX" plan -q . -o PLAN.md >/dev/null 2>"$WORK/err")
  code=$?
  check "full disk: plan -o exits 2" test "$code" = 2
  check "full disk: the plan is intact" cmp -s full/PLAN.md plan.before
  check "full disk: no temporary left" test -z "$(ls -A full | grep -E '\.leakfix-[A-Za-z0-9]{6}$')"
  umount full
fi

finish
