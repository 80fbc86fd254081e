#!/usr/bin/env python3
"""The C++ pass against the compiler's own front end, with the same compile commands.

    bench/cxx_syntax.py [BINARY] [--units 40] [--runs 3]

Writes a project of --units translation units that include the standard library (<string>,
<vector>, <map>, <memory>, <mutex>, <functional>) and a pool header with an inline wrapper
around Pool::acquire(); half of the units include it and acquire (through the pool and through
the wrapper), the other half name no acquirer. Then times, in pairs, one thread each:
  * `leakfix scan -p BUILD -j 1` on the project (compile_commands.json), and
  * `clang++-14 -fsyntax-only` on every unit, one after the other, with the same commands,
and prints both, their ratio (target 1.5x) and the instructions of each (callgrind, when
valgrind is installed and --instructions is given).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INCLUDES = "#include <string>\n#include <vector>\n#include <map>\n#include <memory>\n#include <mutex>\n#include <functional>\n"

POOL_H = """#pragma once
#include <string>
struct Conn {
  int query(const std::string& sql);
  void close() noexcept;
};
struct Pool {
  Conn* acquire();
  void release(Conn* c) noexcept;
};
// A wrapper in a header: every unit that includes it calls what it returns a handle.
inline Conn* open_reporting(Pool& pool) { return pool.acquire(); }
"""


def unit(i, acquires):
    lines = [INCLUDES, '#include "pool.h"' if acquires else "", ""]
    lines.append(f"std::map<std::string, std::vector<int>> table{i};")
    for f in range(12):
        if acquires and f % 3 == 0:
            lines.append(f"int leak{i}_{f}(Pool& pool, bool fast) {{\n  Conn* c = pool.acquire();\n  if (fast) return {f};\n"
                         f"  int n = c->query(\"SELECT {f}\");\n  pool.release(c);\n  return n;\n}}")
        elif acquires and f % 3 == 1:
            lines.append(f"int report{i}_{f}(Pool& pool) {{\n  Conn* c = open_reporting(pool);\n"
                         f"  int n = c->query(\"SELECT {f}\");\n  if (n < 0) return n;\n  pool.release(c);\n  return n;\n}}")
        else:
            lines.append(f"int plain{i}_{f}(const std::vector<std::string>& v) {{\n  std::mutex m;\n"
                         f"  std::lock_guard<std::mutex> g(m);\n  int n = 0;\n  for (const auto& s : v) n += static_cast<int>(s.size());\n"
                         f"  std::function<int(int)> twice = [](int x) {{ return 2 * x; }};\n  return twice(n) + {f};\n}}")
    return "\n".join(lines) + "\n"


def write_project(root, units):
    src = os.path.join(root, "src")
    os.makedirs(src)
    with open(os.path.join(src, "pool.h"), "w") as f:
        f.write(POOL_H)
    commands = []
    for i in range(units):
        path = os.path.join(src, f"unit{i:03d}.cpp")
        with open(path, "w") as f:
            f.write(unit(i, i % 2 == 0))
        commands.append({"directory": src, "file": path,
                         "arguments": ["clang++-14", "-std=c++17", "-I", src, "-c", path, "-o", path + ".o"]})
    build = os.path.join(root, "build")
    os.makedirs(build)
    with open(os.path.join(build, "compile_commands.json"), "w") as f:
        json.dump(commands, f, indent=1)
    return src, build, commands


def syntax_only(commands):
    for c in commands:
        args = [a for a in c["arguments"] if a not in ("-c",)]
        out = args.index("-o")
        del args[out:out + 2]
        r = subprocess.run(args + ["-fsyntax-only"], cwd=c["directory"], capture_output=True)
        if r.returncode != 0:
            sys.exit(f"bench: {c['file']} does not compile: {r.stderr.decode()[-400:]}")


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary", nargs="?", default=os.path.join(ROOT, "build", "leakfix"))
    ap.add_argument("--units", type=int, default=40)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    if not shutil.which("clang++-14"):
        sys.exit("bench: clang++-14 is missing (apt-get install clang-14)")
    with tempfile.TemporaryDirectory() as tmp:
        src, build, commands = write_project(tmp, args.units)
        scan = [args.binary, "scan", src, "-p", build, "-j", "1", "-q", "--no-cache", "--format", "json"]

        def leakfix():
            r = subprocess.run(scan, capture_output=True, text=True)
            if r.returncode not in (0, 1):
                sys.exit(f"bench: leakfix failed: {r.stderr[-400:]}")
            return r.stdout

        report = json.loads(leakfix())
        findings = report["summary"]["findings"]
        pairs = []
        for _ in range(args.runs):
            a = timed(leakfix)
            b = timed(lambda: syntax_only(commands))
            pairs.append((a, b))
        lf = statistics.median(a for a, _ in pairs)
        cl = statistics.median(b for _, b in pairs)
        ratio = statistics.median(a / b for a, b in pairs)
        print(f"C++: {args.units} translation units (half name no acquirer), one thread, median of {args.runs} pairs")
        print(f"  {'clang++-14 -fsyntax-only, every unit':<44} {cl:7.2f} s")
        print(f"  {'leakfix scan -p BUILD -j 1':<44} {lf:7.2f} s   {ratio:.2f}x clang -fsyntax-only (target 1.5x); "
              f"{findings} findings")
        print(json.dumps({"cxx_over_syntax_only": round(ratio, 2)}))
        expected = (args.units + 1) // 2 * 8  # every acquiring unit: 4 early returns, 4 wrapper calls
        if findings != expected:
            sys.exit(f"bench: {findings} findings, expected {expected}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
