#!/usr/bin/env bash
# The Debian package: `cpack -G DEB` from the build gives a .deb whose dependencies are Debian's
# runtime libraries (the C and C++ runtimes; LLVM's for the C++ module), with the binary, the C++ module where the binary looks for it
# (../lib/leakfix), the man page and the docs. Unpacked anywhere, it scans Python and C++.
# Usage: deb_test.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
BUILD=$(realpath "$1")
source "$(dirname "$0")/../e2e/harness.sh" "$BUILD/leakfix" "$2"

(cd "$BUILD" && cpack -G DEB -B "$WORK/out" >"$WORK/cpack.log" 2>&1)
check "cpack builds a .deb" test -f "$WORK"/out/leakfix_*_amd64.deb
DEB=$(ls "$WORK"/out/leakfix_*.deb 2>/dev/null | head -1)
dpkg-deb -I "$DEB" >"$WORK/info" 2>&1
check "it depends on Debian's runtime libraries" grep -q "Depends: .*libc6.*libstdc++6" "$WORK/info"
# The binary carries tree-sitter, fmt, yaml-cpp and toml++: copied anywhere, it runs.
ldd "$BUILD/leakfix" >"$WORK/ldd" 2>&1
check "the binary needs no tree-sitter, fmt, yaml-cpp or toml++ library" bash -c "! grep -E 'libtree-sitter|libfmt|libyaml-cpp|libtomlplusplus' '$WORK/ldd'"
check "nor does the package" bash -c "! grep -E 'Depends: .*(libtree-sitter|libfmt|libyaml-cpp|libtomlplusplus)' '$WORK/info'"
mkdir -p "$WORK/copy"
cp "$BUILD/leakfix" "$WORK/copy/leakfix"
(cd "$SRC" && LD_LIBRARY_PATH=/nonexistent "$WORK/copy/leakfix" scan examples/sportsbook --concise -q >"$WORK/copy.out" 2>&1)
check "a copy of the binary alone scans Python" grep -q "leaky-path" "$WORK/copy.out"
dpkg-deb -c "$DEB" >"$WORK/list" 2>&1
for f in ./usr/bin/leakfix ./usr/share/man/man1/leakfix.1 ./usr/share/doc/leakfix/README.md ./usr/share/doc/leakfix/rules/leaky-path.md; do
  check "it holds $f" grep -q " $f\$" "$WORK/list"
done
dpkg-deb -x "$DEB" "$WORK/root"
check "the man page is roff with its name" grep -q '^leakfix \\- find resources' "$WORK/root/usr/share/man/man1/leakfix.1"
(cd "$SRC" && "$WORK/root/usr/bin/leakfix" scan examples/sportsbook --format json >"$WORK/py.json" 2>"$WORK/py.err")
check "the packaged binary scans Python" python3 -c "import json,sys; sys.exit(0 if len(json.load(open('$WORK/py.json'))['findings']) > 10 else 1)"
if grep -q " ./usr/lib/leakfix/leakfix-cxx.so\$" "$WORK/list"; then
  (cd "$SRC" && "$WORK/root/usr/bin/leakfix" scan tests/fixtures/cxx/pool.cpp --format json -- -std=c++17 >"$WORK/cxx.json" 2>"$WORK/cxx.err")
  check "the packaged binary loads its C++ module from ../lib/leakfix" python3 -c "
import json, sys
d = json.load(open('$WORK/cxx.json'))
sys.exit(0 if d['findings'] and not d['errors'] else 1)"
fi
finish
