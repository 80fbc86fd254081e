#!/usr/bin/env python3
"""The C++ pass: every `// expect: KIND` in tests/fixtures/cxx must be found with that kind and
nothing else; compile databases (-p), flags after `--`, files without a compile command, a TU
that does not compile, the prefilter, suppression and the JSON/SARIF shapes."""
import json
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests/fixtures/cxx"
LEAKFIX = str(pathlib.Path(sys.argv[1]).resolve())
failures = []


def check(name, ok, detail=""):
    if not ok:
        failures.append(name)
        print(f"FAIL: {name} {detail}")


def leakfix(*args, cwd=ROOT):
    return subprocess.run([LEAKFIX, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


# Expectations written next to the code.
source = FIXTURES / "pool.cpp"
expected = {}
for number, line in enumerate(source.read_text().splitlines(), 1):
    m = re.search(r"// expect: ([a-z-]+)", line)
    if m:
        expected[number] = m.group(1)
r = leakfix("scan", str(source.relative_to(ROOT)), "--format", "json", "--", "-std=c++17")
doc = json.loads(r.stdout)
found = {f["line"]: f["kind"] for f in doc["findings"]}
for line, kind in sorted(expected.items()):
    check(f"pool.cpp:{line} is {kind}", found.get(line) == kind, f"got {found.get(line)}")
for line, kind in sorted(found.items()):
    check(f"pool.cpp:{line}: no unexpected finding", line in expected, kind)
check("exit 1 with findings", r.returncode == 1)
f0 = next(f for f in doc["findings"] if f["line"] == min(expected))
check("findings carry function and variable", f0["function"] == "early_return" and f0["variable"] == "c", json.dumps(f0))
check("C++ findings say why they are not fixed", all(not f["fixable"] and f["reason"] for f in doc["findings"]))

with tempfile.TemporaryDirectory() as tmp:
    tmp = pathlib.Path(tmp)
    # A compile database, as CMake writes it.
    build = tmp / "build"
    build.mkdir()
    entries = [{"directory": str(FIXTURES), "file": str(FIXTURES / name), "command": f"c++ -std=c++17 -c {FIXTURES / name}"}
               for name in ("pool.cpp", "compile_errors.cpp", "no_names.cpp")]
    (build / "compile_commands.json").write_text(json.dumps(entries))
    r = leakfix("scan", "-p", str(build), "tests/fixtures/cxx", "--format", "json", "-j", "2")
    doc = json.loads(r.stdout)
    check("-p: the pool findings", {f["line"] for f in doc["findings"]} == set(expected), r.stderr)
    errors = {pathlib.Path(e["file"]).name: e["message"] for e in doc["errors"]}
    check("a TU that does not compile is reported", "does not compile" in errors.get("compile_errors.cpp", ""), json.dumps(errors))
    check("its first error is named", "is not a structure or union" in errors.get("compile_errors.cpp", ""))
    check("clang prints nothing by itself", "error generated" not in r.stderr and "errors generated" not in r.stderr, r.stderr)
    check("the run goes on after it", r.returncode == 1)
    # Same output whatever -j is.
    r1 = leakfix("scan", "-p", str(build), "tests/fixtures/cxx", "--format", "json", "-j", "1")
    check("same findings with -j1 and -j2", json.loads(r1.stdout)["findings"] == doc["findings"])
    # No database, no flags: said, not guessed.
    lone = tmp / "lone.cpp"
    lone.write_text((FIXTURES / "pool.cpp").read_text())
    r = leakfix("scan", str(lone), "--format", "json")
    errs = json.loads(r.stdout)["errors"]
    check("no compile command is said", any("no compile command" in e["message"] for e in errs), r.stdout)
    # A file that is not in the database.
    r = leakfix("scan", "-p", str(build), str(lone), "--format", "json")
    check("a file missing from the database is said",
          any("not in" in e["message"] and "neighbouring" in e["message"] for e in json.loads(r.stdout)["errors"]), r.stdout[-400:])
    # A broken database directory.
    r = leakfix("scan", "-p", str(tmp / "nowhere"), "tests/fixtures/cxx/pool.cpp")
    check("a missing database is said", "compile_commands.json" in r.stderr, r.stderr)
    # Mixed trees: Python and C++ in one run.
    mixed = tmp / "mixed"
    mixed.mkdir()
    (mixed / "a.cpp").write_text((FIXTURES / "pool.cpp").read_text())
    (mixed / "b.py").write_text("from db import get_db_connection\n\n\ndef f():\n    conn = get_db_connection()\n    return conn.x()\n")
    r = leakfix("scan", str(mixed), "--format", "json", "--", "-std=c++17")
    rules = {f["rule"] for f in json.loads(r.stdout)["findings"]}
    check("python and C++ in one run", rules == {"db-connection", "pool-acquire", "mutex-lock"}, str(rules))
    r = leakfix("scan", str(mixed / "a.cpp"), "--format", "sarif", "--", "-std=c++17")
    sarif = json.loads(r.stdout)
    check("sarif for C++", len(sarif["runs"][0]["results"]) == len(expected))

print(f"{'FAILED' if failures else 'ok'}: {len(failures)} failure(s)")
sys.exit(1 if failures else 0)
