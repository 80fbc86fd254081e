#!/usr/bin/env python3
"""Side-by-side timings of leakfix, the raw tree-sitter parse and ast-grep, in one run.

    bench/run.py [--files N] [--runs R] [--skip-stdlib] [--skip-cxx] [--instructions]

Run from the repository root after scripts/bootstrap.sh; bench/run.sh does both. Prints the
median wall time of R runs of each command and the ratios the design sets targets for:
  * dense and mixed corpora (every file acquires; in every function, or in about a third):
    leakfix / raw parse, same thread count (target <= 1.2)
  * sparse corpus (5% of files acquire): ast-grep / leakfix (target: several times)
and then scans the machine's Python standard library (site-packages included) with each
shipped rule, reporting time, findings per kind and files skipped; then, on a copy of it, warm
scans against cold ones (after a function body changed, after a wrapper changed), the cold scan
against ast-grep's one-pattern search (target 0.4x), sharded runs, peak memory at 1x and 4x the
tree, the language server's latency; the C++ pass against clang -fsyntax-only (target 1.5x); and
what leakfix_runtime costs per acquisition (target 2 us) and per Flask request.

leakfix and the parse are timed in pairs, one right after the other, and the ratio reported is
the median of the pairs' ratios: on a shared machine the load drifts between runs by more than
the difference being measured, and a pair sees nearly the same load. --instructions also counts
instructions (valgrind's callgrind, on the first 200 files of each corpus, one thread), which
does not depend on the load at all.
"""
import argparse
import json
import os
import re
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
SPLIT_CHECK = os.path.join(ROOT, "build", "split-check")
AST_GREP = os.path.join(OUT, "node_modules", ".bin", "ast-grep")


def run_once(cmd, ok=(0, 1)):
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=1800)
    if proc.returncode not in ok:
        sys.exit(f"bench: {' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return time.perf_counter() - start


def median_time(cmd, runs):
    return statistics.median(run_once(cmd) for _ in range(runs))


def paired(first, second, runs):
    """Median times of both commands and the median ratio second/first over runs taken in pairs."""
    a, b = [], []
    for _ in range(runs):
        a.append(run_once(first))
        b.append(run_once(second))
    return statistics.median(a), statistics.median(b), statistics.median(y / x for x, y in zip(a, b))


def instructions(cmd):
    """Instructions the command executes, counted by callgrind."""
    if not shutil.which("valgrind"):
        sys.exit("bench: --instructions needs valgrind (apt-get install valgrind)")
    proc = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + cmd,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=3600)
    for line in proc.stderr.splitlines():
        if "refs:" in line:
            return int(line.split("refs:")[1].strip().replace(",", ""))
    sys.exit(f"bench: callgrind gave no count for {' '.join(cmd)}: {proc.stderr[-500:]}")


def sample(path, files):
    """The first `files` Python files of a corpus, in a folder of their own."""
    out = path + f"-sample{files}"
    if not os.path.isdir(out):
        chosen = sorted(os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs if f.endswith(".py"))[:files]
        os.makedirs(out)
        for i, f in enumerate(chosen):
            shutil.copy(f, os.path.join(out, f"{i:04d}_{os.path.basename(f)}"))
    return out


def corpus(name, files, fraction, route_share=1.0):
    path = os.path.join(OUT, name)
    if not os.path.isdir(path):
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "gen_corpus.py"), path, "--files", str(files),
                        "--with-acquisitions", str(fraction), "--route-share", str(route_share)], check=True)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)
    return path, size


def acquirer_names(rule_files):
    """The last segment of every acquirer of the rules: what leakfix's prefilter looks for."""
    names = set()
    for path in rule_files:
        inside = False
        for line in open(path):
            if line.strip() and not line.startswith((" ", "\t", "-", "#")):
                inside = line.startswith("acquirers:")
                continue
            m = re.match(r'\s*-\s*(?:call:\s*)?"?([\w.*]+)"?\s*$', line)
            if inside and m:
                names.add(m.group(1).split(".")[-1])
    return names


def files_naming(root, names):
    """The Python files under root whose text contains one of names."""
    out = []
    for d, _, fs in os.walk(root):
        for f in fs:
            if not f.endswith(".py"):
                continue
            path = os.path.join(d, f)
            with open(path, "rb") as fh:
                data = fh.read()
            if any(n.encode() in data for n in names):
                out.append(path)
    return sorted(out)


def sub_bench(script, *args):
    """Runs another bench of this folder, prints its lines and returns the ratios of its last line
    (a JSON object)."""
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "bench", script), *args], capture_output=True, text=True, timeout=3600)
    lines = proc.stdout.strip().splitlines()
    print()
    for line in lines[:-1]:
        print(line)
    if proc.returncode == 0 and lines:
        return json.loads(lines[-1])
    print(f"  {script} failed: " + proc.stderr[-400:])
    return {}


def row(label, value, extra="", unit="s"):
    print(f"  {label:<44} {value:8.3f} {unit}  {extra}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--skip-stdlib", action="store_true")
    ap.add_argument("--skip-cxx", action="store_true", help="leave out the C++ pass against clang -fsyntax-only")
    ap.add_argument("--instructions", action="store_true", help="also count instructions with valgrind")
    args = ap.parse_args()
    for tool in (LEAKFIX, TS_PARSE, SPLIT_CHECK, AST_GREP):
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
            parse, scan, ratio = paired([TS_PARSE, "-j", str(jobs), path],
                                        [LEAKFIX, "scan", "--no-cache", path, "-j", str(jobs), "-q", "--format", "json"], args.runs)
            row(f"tree-sitter parse only, {jobs} thread(s)", parse, f"{size / 1e6 / parse:.1f} MB/s")
            row(f"leakfix scan --format json, {jobs} thread(s)", scan, f"ratio to parse {ratio:.2f}x (median of pairs)")
            ratios[f"{name}_j{jobs}"] = ratio
        if args.instructions:
            few = sample(path, 200)
            parse = instructions([TS_PARSE, "-j", "1", few])
            scan = instructions([LEAKFIX, "scan", "--no-cache", few, "-j", "1", "-q", "--format", "json"])
            row("instructions, 200 files, parse only", parse / 1e9, unit="G")
            row("instructions, 200 files, leakfix scan", scan / 1e9, f"ratio to parse {scan / parse:.2f}x", unit="G")
            ratios[f"{name}_instructions"] = scan / parse
        sg = median_time([AST_GREP, "run", "-p", "get_db_connection()", "-l", "python", path], args.runs)
        row("ast-grep run -p 'get_db_connection()'", sg)
        print()

    sparse, sparse_size = corpus(f"sparse-{args.files}", args.files, 0.05)
    print(f"Sparse corpus: {args.files} files, {sparse_size / 1e6:.1f} MB, 5% of files acquire")
    parse = median_time([TS_PARSE, "-j", str(cores), sparse], args.runs)
    scan, sg, ratio = paired([LEAKFIX, "scan", "--no-cache", sparse, "-q", "--format", "json"],
                             [AST_GREP, "run", "-p", "get_db_connection()", "-l", "python", sparse], args.runs)
    row(f"tree-sitter parse of every file, {cores} threads", parse)
    row("leakfix scan --format json", scan)
    row("ast-grep run -p 'get_db_connection()'", sg, f"ast-grep / leakfix {ratio:.1f}x (median of pairs)")
    ratios["sparse_astgrep_over_leakfix"] = ratio

    if not args.skip_stdlib:
        stdlib = sysconfig.get_paths()["stdlib"]
        print(f"\nPython standard library with site-packages: {stdlib}")
        python_rules = [r for r in sorted(os.listdir(os.path.join(ROOT, "rules")))
                        if "language: cpp" not in open(os.path.join(ROOT, "rules", r)).read()]
        for rule in python_rules + ["(all shipped rules)"]:
            cmd = [LEAKFIX, "scan", "--no-cache", stdlib, "-q", "--format", "json"]
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
            if rule.startswith("("):
                everything = proc.stdout
        # The design's target on real code: the raw parse of the files that name an acquirer, plus 20%.
        rule_paths = [os.path.join(ROOT, "rules", r) for r in python_rules]
        naming = files_naming(stdlib, acquirer_names(rule_paths))
        parse, scan, ratio = paired([TS_PARSE, "-j", str(cores)] + naming,
                                    [LEAKFIX, "scan", "--no-cache", stdlib, "-q", "--format", "json"], args.runs)
        row(f"parse of the {len(naming)} files naming an acquirer", parse)
        row("leakfix scan, all shipped rules", scan, f"ratio to parse {ratio:.2f}x (median of pairs)")
        ratios["stdlib_all_rules"] = ratio
        # The scan parses only the statements that name a call of interest: the findings must be
        # those of a scan that parses every statement.
        whole = subprocess.run([LEAKFIX, "scan", "--no-cache", stdlib, "-q", "--format", "json"], capture_output=True, timeout=1800,
                               env=dict(os.environ, LEAKFIX_WHOLE_FILES="1"))
        same = whole.stdout == everything
        print(f"  {'same report with every statement parsed':<44} {'yes' if same else 'NO'}")
        if not same:
            sys.exit("bench: parsing only the statements that matter changed the report on the standard library")
        # The statement split the scan relies on, against the grammar's, on every file.
        split = subprocess.run([SPLIT_CHECK, stdlib], capture_output=True, text=True, timeout=1800)
        print(f"  statement split against the grammar: {split.stdout.strip().splitlines()[-1]}")
        if split.returncode != 0:
            sys.exit("bench: the statement split cuts a statement the grammar keeps whole:\n" + split.stdout[-2000:])
        # The summary cache: a re-scan after one file's body changed, against a cold scan, one
        # thread each, on a copy of the tree (the edit alternates between two texts each run).
        copy = os.path.join(ROOT, "bench", "out", "stdlib-copy")
        if not os.path.isdir(copy):
            shutil.copytree(stdlib, copy, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        flip = os.path.join(ROOT, "bench", "flip.py")
        edit = f"{sys.executable} {flip} {os.path.join(copy, 'sqlite3', 'dump.py')} 'sqlite_sequence = []' 'sqlite_sequence = [ ]'"
        cache_dir = os.path.join(ROOT, "bench", "out", "cache")
        shutil.rmtree(cache_dir, ignore_errors=True)
        base = ["--no-default-excludes", "-j", "1", "-q", "--format", "json"]
        warm_cmd = ["sh", "-c", f"{edit} && exec {LEAKFIX} scan {copy} --cache-dir {cache_dir} " + " ".join(base) + " >/dev/null"]
        cold_cmd = ["sh", "-c", f"{edit} && exec {LEAKFIX} scan {copy} --no-cache " + " ".join(base) + " >/dev/null"]
        subprocess.run(warm_cmd, timeout=1800)  # fills the cache
        warm, cold, ratio = paired(warm_cmd, cold_cmd, args.runs)
        files = sum(1 for _, _, fs in os.walk(copy) for f in fs if f.endswith(".py"))
        row(f"cold scan of {files} files, one thread", cold)
        row("warm re-scan after one file changed", warm, f"{warm / cold:.3f}x the cold scan (target 0.1x)")
        ratios["warm_over_cold"] = warm / cold
        # A wrapper's body changes (test_email's openfile() stops or starts returning its file):
        # the files that can call it are analysed again, not the tree. (A file that defines a
        # context manager is compared whole, and an edit to it analyses the tree again.)
        flip_wrapper = (f"{sys.executable} {flip} {os.path.join(copy, 'test', 'test_email', '__init__.py')} "
                        "'    return open(path, *args, **kws)\\n' '    return None\\n'")
        wrapper_cmd = ["sh", "-c", f"{flip_wrapper} && exec {LEAKFIX} scan {copy} --cache-dir {cache_dir} " + " ".join(base) + " >/dev/null"]
        subprocess.run(wrapper_cmd, timeout=1800)
        warm_wrapper, cold2, _ = paired(wrapper_cmd, cold_cmd, args.runs)
        verbose = subprocess.run(wrapper_cmd[:2] + [wrapper_cmd[2].replace(" >/dev/null", " -v 2>&1 >/dev/null | grep 'cache:'")],
                                 capture_output=True, text=True, timeout=1800).stdout.strip()
        again = re.search(r"(\d+) of them analysed again", verbose)
        row("warm re-scan after a wrapper changed", warm_wrapper,
            f"{warm_wrapper / cold2:.3f}x the cold scan; {again.group(1) if again else 0} dependants analysed again")
        ratios["warm_wrapper_over_cold"] = warm_wrapper / cold2
        # Against ast-grep's search for one pattern, one thread each, on the same tree.
        sg_cmd = [AST_GREP, "run", "-p", "get_db_connection()", "-l", "python", "-j", "1", copy]
        lf_cmd = [LEAKFIX, "scan", copy, "--no-cache"] + base
        sg, lf, ratio3 = paired(sg_cmd, lf_cmd, max(1, args.runs // 2))
        row("ast-grep run -p 'get_db_connection()' -j 1", sg)
        row("leakfix scan, all rules, -j 1, cold", lf, f"{ratio3:.2f}x ast-grep's time (target 0.4x)")
        ratios["stdlib_leakfix_over_astgrep"] = ratio3
        # Shards: N processes analyse a share each into one cache, then a scan joins them.
        for n in (2, 4):
            shard_cache = os.path.join(ROOT, "bench", "out", f"shards{n}")
            shard_times, join_times = [], []
            for _ in range(max(1, args.runs // 2)):
                shutil.rmtree(shard_cache, ignore_errors=True)
                shard_times.append(max(run_once([LEAKFIX, "scan", copy, "--cache-dir", shard_cache, "--shard", f"{i}/{n}"] + base)
                                       for i in range(1, n + 1)))
                join_times.append(run_once([LEAKFIX, "scan", copy, "--cache-dir", shard_cache] + base))
            slowest, join = statistics.median(shard_times), statistics.median(join_times)
            row(f"{n} shards: the slowest share, then the join", slowest + join,
                f"{slowest:.2f} s + {join:.2f} s = {(slowest + join) / cold:.2f}x the cold scan on {n} machines")
            ratios[f"shards{n}_over_cold"] = (slowest + join) / cold
        # Peak memory at 1x and 4x the tree.
        mem = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "memory.py"), LEAKFIX, "--copies", "1,4"],
                             capture_output=True, text=True, timeout=3600)
        for line in mem.stdout.strip().splitlines():
            print("  " + line)
        # The language server on the same tree: the workspace read once, then one document per edit.
        lsp = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "lsp_latency.py"), LEAKFIX, stdlib],
                             capture_output=True, text=True, timeout=1800)
        for line in lsp.stdout.strip().splitlines()[1:]:
            print("  " + line)
    # The C++ pass against the compiler's front end, with the same compile commands.
    if not args.skip_cxx:
        ratios.update(sub_bench("cxx_syntax.py", LEAKFIX, "--runs", str(max(1, args.runs // 2))))
    # What leakfix_runtime costs an application: per acquisition, and per Flask request.
    ratios.update(sub_bench("runtime_overhead.py", "--repeats", str(max(3, args.runs))))
    print("\nratios: " + json.dumps({k: round(v, 3) for k, v in ratios.items()}))


if __name__ == "__main__":
    main()
