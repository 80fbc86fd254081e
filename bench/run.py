#!/usr/bin/env python3
"""Side-by-side timings of leakfix, the raw tree-sitter parse and ast-grep, in one run.

    bench/run.py [--files N] [--runs R] [--skip-stdlib]

Run from the repository root after scripts/bootstrap.sh; bench/run.sh does both. Prints the
median wall time of R runs of each command and the ratios the design sets targets for:
  * dense and mixed corpora (every file acquires; in every function, or in about a third):
    leakfix / raw parse, same thread count (target <= 1.2)
  * sparse corpus (5% of files acquire): ast-grep / leakfix (target: several times)
and then scans the machine's Python standard library (site-packages included) with each
shipped rule, reporting time, findings per kind and files skipped.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")
LEAKFIX = os.path.join(ROOT, "build", "leakfix")
TS_PARSE = os.path.join(ROOT, "build", "ts-parse")
AST_GREP = os.path.join(OUT, "node_modules", ".bin", "ast-grep")


def median_time(cmd, runs, ok=(0, 1)):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=1800)
        times.append(time.perf_counter() - start)
        if proc.returncode not in ok:
            sys.exit(f"bench: {' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return statistics.median(times)


def corpus(name, files, fraction, route_share=1.0):
    path = os.path.join(OUT, name)
    if not os.path.isdir(path):
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "gen_corpus.py"), path, "--files", str(files),
                        "--with-acquisitions", str(fraction), "--route-share", str(route_share)], check=True)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)
    return path, size


def row(label, seconds, extra=""):
    print(f"  {label:<44} {seconds:8.3f} s  {extra}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--skip-stdlib", action="store_true")
    args = ap.parse_args()
    for tool in (LEAKFIX, TS_PARSE, AST_GREP):
        if not os.path.exists(tool):
            sys.exit(f"bench: {tool} is missing; run bench/run.sh")
    version = subprocess.run([AST_GREP, "--version"], capture_output=True, text=True).stdout.strip()
    cores = os.cpu_count()
    print(f"leakfix bench: {cores} cores, {version}, median of {args.runs} runs\n")

    ratios = {}
    for name, share, what in (("dense", 1.0, "every function of every file acquires"),
                              ("mixed", 0.3, "every file acquires, in about a third of its functions")):
        path, size = corpus(f"{name}-{args.files}", args.files, 1.0, share)
        print(f"{name.capitalize()} corpus: {args.files} route files, {size / 1e6:.1f} MB, {what}")
        for jobs in (1, cores):
            parse = median_time([TS_PARSE, "-j", str(jobs), path], args.runs)
            scan = median_time([LEAKFIX, "scan", path, "-j", str(jobs), "-q", "--format", "json"], args.runs)
            row(f"tree-sitter parse only, {jobs} thread(s)", parse, f"{size / 1e6 / parse:.1f} MB/s")
            row(f"leakfix scan --format json, {jobs} thread(s)", scan, f"ratio to parse {scan / parse:.2f}x")
            ratios[f"{name}_j{jobs}"] = scan / parse
        sg = median_time([AST_GREP, "run", "-p", "get_db_connection()", "-l", "python", path], args.runs)
        row("ast-grep run -p 'get_db_connection()'", sg)
        print()

    sparse, sparse_size = corpus(f"sparse-{args.files}", args.files, 0.05)
    print(f"Sparse corpus: {args.files} files, {sparse_size / 1e6:.1f} MB, 5% of files acquire")
    scan = median_time([LEAKFIX, "scan", sparse, "-q", "--format", "json"], args.runs)
    parse = median_time([TS_PARSE, "-j", str(cores), sparse], args.runs)
    sg = median_time([AST_GREP, "run", "-p", "get_db_connection()", "-l", "python", sparse], args.runs)
    row(f"tree-sitter parse of every file, {cores} threads", parse)
    row("leakfix scan --format json", scan)
    row("ast-grep run -p 'get_db_connection()'", sg, f"ast-grep / leakfix {sg / scan:.1f}x")
    ratios["sparse_astgrep_over_leakfix"] = sg / scan

    if not args.skip_stdlib:
        stdlib = sysconfig.get_paths()["stdlib"]
        print(f"\nPython standard library with site-packages: {stdlib}")
        python_rules = [r for r in sorted(os.listdir(os.path.join(ROOT, "rules")))
                        if "language: cpp" not in open(os.path.join(ROOT, "rules", r)).read()]
        for rule in python_rules + ["(all shipped rules)"]:
            cmd = [LEAKFIX, "scan", stdlib, "-q", "--format", "json"]
            if not rule.startswith("("):
                cmd += ["--rules", os.path.join(ROOT, "rules", rule)]
            start = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, timeout=1800)
            seconds = time.perf_counter() - start
            if proc.returncode not in (0, 1):
                sys.exit(f"bench: leakfix crashed or failed on the standard library (exit {proc.returncode})")
            report = json.loads(proc.stdout)
            kinds = ", ".join(f"{n} {k}" for k, n in sorted(report["summary"]["by_kind"].items()))
            row(f"{rule}", seconds, f"{report['summary']['files']} files, {report['summary']['findings']} findings "
                f"({kinds}); {len(report['errors'])} files skipped")
    print("\nratios: " + json.dumps({k: round(v, 2) for k, v in ratios.items()}))


if __name__ == "__main__":
    main()
