#!/usr/bin/env python3
"""`leakfix fix --write` on code leakfix's authors did not write, run as a new user would: copy a
tree, fix --write, fix --write again. Prints, per tree and per binary given: fixes applied, files
changed, files that no longer compile, changed modules that no longer import, and whether the
second run changed anything. Compare two builds side by side:

    bench/fix_corpus.py build/leakfix OLD/leakfix --tree stdlib --tree site-packages

A module is imported from the rewritten copy in a fresh interpreter (-I -S, the copy first on
sys.path), and counts only when it came from the copy; modules that fail to import before the
rewrite too are left out."""
import argparse
import pathlib
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile

TREES = {
    "stdlib": pathlib.Path(sysconfig.get_paths()["stdlib"]),
    "site-packages": pathlib.Path(sysconfig.get_paths()["purelib"]),
}
SKIP = {"__pycache__", "site-packages"}


def copy_tree(src, dst):
    shutil.copytree(src, dst, ignore=lambda d, names: [n for n in names if n in SKIP or n.endswith((".so", ".pyc"))],
                    symlinks=True)


def snapshot(root):
    return {p: p.read_bytes() for p in root.rglob("*.py")}


def module_name(root, path):
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


IMPORT = """
import importlib, sys
sys.path.insert(0, sys.argv[1])
ok = []
for name in sys.argv[2:]:
    try:
        m = importlib.import_module(name)
        ok.append(name if getattr(m, "__file__", "") and m.__file__.startswith(sys.argv[1]) else "!" + name)
    except BaseException as e:
        ok.append("?" + name + ":" + type(e).__name__)
print("\\n".join(ok))
"""


def imports(root, names):
    """name -> True (imports from the copy), False (fails), None (not from the copy: not judged)."""
    out = {}
    for name in names:
        r = subprocess.run([sys.executable, "-I", "-S", "-c", IMPORT, str(root), name], capture_output=True, text=True,
                           timeout=60)
        line = (r.stdout.strip().splitlines() or ["?" + name])[-1]
        out[name] = None if line.startswith("!") else (not line.startswith("?"))
    return out


def run(binary, tree, tmp):
    work = tmp / "work"
    if work.exists():
        shutil.rmtree(work)
    copy_tree(TREES[tree], work)
    before = snapshot(work)
    r = subprocess.run([binary, "fix", "--write", "-j", "2", "."], cwd=work, capture_output=True, text=True)
    m = re.search(r"Applied (\d+) fix", r.stdout)
    applied = int(m.group(1)) if m else 0
    after = snapshot(work)
    changed = [p for p in after if after[p] != before.get(p)]
    broken_compile = []
    for p in changed:
        try:
            compile(after[p], str(p), "exec")
        except SyntaxError as e:
            broken_compile.append(f"{p.relative_to(work)}: {e}")
    names = [module_name(work, p) for p in changed]
    now = imports(work, names)
    # The same modules from the original tree: what failed before is not the rewrite's doing.
    orig = tmp / "orig"
    if orig.exists():
        shutil.rmtree(orig)
    copy_tree(TREES[tree], orig)
    was = imports(orig, names)
    broken_import = [n for n in names if was.get(n) and now.get(n) is False]
    judged = sum(1 for n in names if was.get(n) and now.get(n) is not None)
    again = subprocess.run([binary, "fix", "--write", "-j", "2", "."], cwd=work, capture_output=True, text=True)
    m2 = re.search(r"Applied (\d+) fix", again.stdout)
    second = int(m2.group(1)) if m2 else -1
    unfixable = len(re.findall(r"^  .*: (?:never-closed|leaky-path|exception-unsafe|manual-safe): ", r.stdout, re.M))
    return {"applied": applied, "files": len(changed), "unfixable": unfixable, "compile_errors": broken_compile,
            "import_errors": broken_import, "imports_judged": judged, "second_run_applied": second, "rc": r.returncode}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binaries", nargs="+")
    ap.add_argument("--tree", action="append", choices=sorted(TREES))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as t:
        tmp = pathlib.Path(t)
        for tree in args.tree or ["stdlib"]:
            for b in args.binaries:
                res = run(str(pathlib.Path(b).resolve()), tree, tmp)
                print(f"{tree:14} {b:40} fixes {res['applied']:4} in {res['files']:3} files; refused {res['unfixable']:4}; "
                      f"no longer compile {len(res['compile_errors'])}; no longer import {len(res['import_errors'])} "
                      f"of {res['imports_judged']}; second run applied {res['second_run_applied']}; rc {res['rc']}")
                for e in res["compile_errors"][:10] + res["import_errors"][:10]:
                    print("    ", e)


if __name__ == "__main__":
    main()
