#!/usr/bin/env python3
"""How `fix --write` on C++ grows with the number of fixes in one file.

    bench/cxx_fix_scaling.py [BINARY...] [--sizes 20,80,200] [--runs 3]

Writes a file with N functions that each leak a pool handle on an early return, runs
`leakfix fix --write` on a fresh copy (median of --runs), checks that the result compiles and that
a second run has nothing to do, and prints the time per fix. Linear means the time per fix stays
flat as N grows. Given several binaries (an earlier build), they are timed on the same files.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def source(n):
    out = ["struct Conn { int ping() noexcept; };", "struct Pool { Conn* acquire(); void release(Conn*) noexcept; };"]
    for i in range(n):
        out.append(f"int f{i}(Pool& pool, bool fast) {{\n  Conn* c = pool.acquire();\n  if (fast) return {i};\n"
                   f"  int n = c->ping();\n  pool.release(c);\n  return n;\n}}")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binaries", nargs="*", default=[os.path.join(ROOT, "build", "leakfix")])
    ap.add_argument("--sizes", default="20,80,200")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    print("C++ fix --write against the number of fixes in one file")
    print(f"  {'binary':<28} {'fixes':>6} {'median':>9} {'per fix':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for binary in args.binaries:
            for n in (int(x) for x in args.sizes.split(",")):
                times = []
                path = os.path.join(tmp, f"m{n}.cpp")
                for _ in range(args.runs):
                    with open(path, "w") as f:
                        f.write(source(n))
                    start = time.perf_counter()
                    r = subprocess.run([binary, "fix", "--write", path, "--", "-std=c++17"], capture_output=True, text=True)
                    times.append(time.perf_counter() - start)
                    if f"Applied {n} fixes" not in r.stdout:
                        sys.exit(f"bench: {binary} applied fewer than {n} fixes: {r.stdout[-300:]}")
                if subprocess.run(["clang++-14", "-std=c++17", "-fsyntax-only", path]).returncode != 0:
                    sys.exit(f"bench: the fixed file with {n} fixes does not compile")
                again = subprocess.run([binary, "fix", "--write", path, "--", "-std=c++17"], capture_output=True, text=True)
                if "Applied 0 fixes" not in again.stdout:
                    sys.exit("bench: a second fix --write still had something to do")
                t = statistics.median(times)
                label = os.path.relpath(binary, ROOT) if binary.startswith(ROOT) else binary
                print(f"  {label:<28} {n:>6} {t:>7.2f} s {1000 * t / n:>6.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
