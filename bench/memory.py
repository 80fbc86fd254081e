#!/usr/bin/env python3
"""Peak memory of a scan against the size of the tree.

    bench/memory.py [BINARY...] [--copies 1,2,4] [--tree DIR] [--jobs N]

Scans 1, 2 and 4 copies (hard links, so no disk is spent) of a tree, by default the machine's
Python standard library with its site-packages (11,000+ files), with `--no-default-excludes` so
that every file counts, and prints each scan's peak resident set size (the kernel's maxrss of the
child) and its ratio to the scan of one copy. The target is at most 1.5x at 4 copies: a scan keeps
no sources and no trees, only what crosses files. Given several binaries (an earlier build), they
are measured side by side on the same copies. Exits 1 when the first binary misses the target.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import sysconfig

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")
TARGET = 1.5


def copies(tree, n):
    """A folder holding n hard-linked copies of the Python files of tree."""
    base = os.path.join(OUT, "memory", "tree")
    if not os.path.isdir(base):
        tmp = base + ".partial"
        shutil.rmtree(tmp, ignore_errors=True)
        for d, _, fs in os.walk(tree):
            for f in fs:
                if f.endswith(".py"):
                    src = os.path.join(d, f)
                    dst = os.path.join(tmp, os.path.relpath(src, tree))
                    os.makedirs(os.path.dirname(dst), exist_ok=True)
                    shutil.copy2(src, dst)
        os.rename(tmp, base)
    out = os.path.join(OUT, "memory", f"x{n}")
    if not os.path.isdir(out):
        os.makedirs(out)
        for i in range(n):
            subprocess.run(["cp", "-al", base, os.path.join(out, f"copy{i}")], check=True)
    return out


def peak(cmd):
    """Peak RSS in MB of a command, its JSON summary, and its exit status."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    data = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        sys.exit(f"bench: {' '.join(cmd)} exited {proc.returncode}")
    return usage.ru_maxrss / 1024, json.loads(data)["summary"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binaries", nargs="*", default=[os.path.join(ROOT, "build", "leakfix")])
    ap.add_argument("--copies", default="1,2,4")
    ap.add_argument("--tree", default=sysconfig.get_paths()["stdlib"])
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    args = ap.parse_args()
    counts = [int(c) for c in args.copies.split(",")]
    print(f"Peak memory against tree size: {args.tree}, {args.jobs} thread(s)")
    print(f"  {'binary':<28} {'copies':>6} {'files':>7} {'findings':>9} {'peak RSS':>10} {'ratio to 1':>10}")
    worst = 0.0
    for b, binary in enumerate(args.binaries):
        first = None
        for n in counts:
            mb, summary = peak([binary, "scan", "--no-cache", copies(args.tree, n), "--no-default-excludes", "-q", "--format", "json",
                                "-j", str(args.jobs)])
            first = first or mb
            ratio = mb / first
            if b == 0:
                worst = max(worst, ratio)
            label = os.path.relpath(binary, ROOT) if binary.startswith(ROOT) else binary
            print(f"  {label:<28} {n:>6} {summary['files']:>7} {summary['findings']:>9} {mb:>7.0f} MB {ratio:>9.2f}x")
    verdict = "within" if worst <= TARGET else "OVER"
    print(f"  largest ratio to one copy: {worst:.2f}x ({verdict} the {TARGET}x target)")
    return 0 if worst <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
