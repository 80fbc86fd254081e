#!/usr/bin/env bash
# Makes a release from a clean checkout of main: the version in CMakeLists.txt must be the one
# the pre-commit docs name; every test passes; then the annotated tag v<version> and the .deb.
#   scripts/release.sh            check, test, tag, package
#   scripts/release.sh --check    only check that the version and the docs agree
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n 's/^project(leakfix VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
[[ -n "$version" ]] || { echo "release: no version in CMakeLists.txt" >&2; exit 1; }
tag="v$version"
for doc in docs/pre-commit.md docs/leakfix.1; do
  if ! grep -q -- "$version" "$doc"; then
    echo "release: $doc does not name version $version" >&2
    exit 1
  fi
done
if grep -n "rev: v" docs/pre-commit.md | grep -v "rev: $tag" >&2; then
  echo "release: docs/pre-commit.md names another rev than $tag" >&2
  exit 1
fi
[[ "${1:-}" == "--check" ]] && { echo "release: $tag: the docs agree"; exit 0; }
if [[ -n "$(git status --porcelain)" ]]; then
  echo "release: the work tree has changes; commit them first" >&2
  exit 1
fi
if git rev-parse -q --verify "refs/tags/$tag" >/dev/null; then
  echo "release: $tag exists already (at $(git rev-list -n1 "$tag")); raise the version in CMakeLists.txt" >&2
  exit 1
fi
bash scripts/test.sh
git tag -a "$tag" -m "leakfix $version"
(cd build && cpack -G DEB)
echo "release: tagged $tag; the package is build/leakfix_${version}_amd64.deb; push with: git push origin $tag"
