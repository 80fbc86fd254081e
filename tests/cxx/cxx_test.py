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

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from harness import LEAKFIX, ROOT, check, finish, leakfix  # noqa: E402

FIXTURES = ROOT / "tests/fixtures/cxx"


def run(*args, cwd=ROOT):
    return leakfix(*args, cwd=cwd, timeout=300)  # a Clang run per TU


# Expectations written next to the code, in every fixture.
def expectations(path):
    out = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        m = re.search(r"// expect: ([a-z-]+(?:, [a-z-]+)*)", line)
        if m:
            out[number] = sorted(m.group(1).split(", "))
    return out


per_kind = {}
for name in ("shapes.cpp", "noguard.cpp", "double_release.cpp", "object_handles.cpp", "pool.cpp"):
    source = FIXTURES / name
    expected = expectations(source)
    r = run("scan", str(source.relative_to(ROOT)), "--format", "json", "--", "-std=c++17")
    doc = json.loads(r.stdout)
    found = {}
    for f in doc["findings"]:
        found[f["line"]] = sorted(found.get(f["line"], []) + [f["kind"]])
    for f in doc["findings"]:
        per_kind[f["kind"]] = per_kind.get(f["kind"], 0) + 1
    for line, kind in sorted(expected.items()):
        check(f"{name}:{line} is {kind}", found.get(line) == kind, f"got {found.get(line)}")
    for line, kind in sorted(found.items()):
        check(f"{name}:{line}: no unexpected finding", line in expected, str(kind))
    check(f"{name}: exit 1 with findings", r.returncode == 1)
print("fixture findings per kind:", json.dumps(per_kind, sort_keys=True))
f0 = next(f for f in doc["findings"] if f["line"] == min(expected))
check("findings carry function and variable", f0["function"] == "early_return" and f0["variable"] == "c", json.dumps(f0))
check("unfixable C++ findings say why", all(f["fixable"] or f["reason"] for f in doc["findings"]))
check("most C++ findings are fixable", sum(f["fixable"] for f in doc["findings"]) == 12, str(sum(f["fixable"] for f in doc["findings"])))

with tempfile.TemporaryDirectory() as tmp:
    tmp = pathlib.Path(tmp)
    # A compile database, as CMake writes it.
    build = tmp / "build"
    build.mkdir()
    entries = [{"directory": str(FIXTURES), "file": str(FIXTURES / name), "command": f"c++ -std=c++17 -c {FIXTURES / name}"}
               for name in ("pool.cpp", "noguard.cpp", "compile_errors.cpp", "no_names.cpp")]
    (build / "compile_commands.json").write_text(json.dumps(entries))
    r = run("scan", "-p", str(build), "tests/fixtures/cxx", "--format", "json", "-j", "2")
    doc = json.loads(r.stdout)
    check("-p: the pool findings", {f["line"] for f in doc["findings"] if f["file"].endswith("pool.cpp")} == set(expected), r.stderr)
    check("-p: the other file's findings", {(f["line"], f["kind"]) for f in doc["findings"] if f["file"].endswith("noguard.cpp")} ==
          {(17, "leaky-path"), (31, "exception-unsafe"), (44, "escapes")})
    errors = {pathlib.Path(e["file"]).name: e["message"] for e in doc["errors"]}
    check("a TU that does not compile is reported", "does not compile" in errors.get("compile_errors.cpp", ""), json.dumps(errors))
    check("its first error is named", "is not a structure or union" in errors.get("compile_errors.cpp", ""))
    check("clang prints nothing by itself", "error generated" not in r.stderr and "errors generated" not in r.stderr, r.stderr)
    check("the run goes on after it", r.returncode == 1)
    # Same output whatever -j is.
    r1 = run("scan", "-p", str(build), "tests/fixtures/cxx", "--format", "json", "-j", "1")
    check("same findings with -j1 and -j2", json.loads(r1.stdout)["findings"] == doc["findings"])
    # No database, no flags: said, not guessed.
    lone = tmp / "lone.cpp"
    lone.write_text((FIXTURES / "pool.cpp").read_text())
    r = run("scan", str(lone), "--format", "json")
    errs = json.loads(r.stdout)["errors"]
    check("no compile command is said", any("no compile command" in e["message"] for e in errs), r.stdout)
    # A file that is not in the database.
    r = run("scan", "-p", str(build), str(lone), "--format", "json")
    check("a file missing from the database is said",
          any("not in" in e["message"] and "skipped" in e["message"] for e in json.loads(r.stdout)["errors"]), r.stdout[-400:])
    # A broken database directory.
    r = run("scan", "-p", str(tmp / "nowhere"), "tests/fixtures/cxx/pool.cpp")
    check("a missing database is said", "compile_commands.json" in r.stderr, r.stderr)
    # Mixed trees: Python and C++ in one run.
    mixed = tmp / "mixed"
    mixed.mkdir()
    (mixed / "a.cpp").write_text((FIXTURES / "pool.cpp").read_text())
    (mixed / "b.py").write_text("from db import get_db_connection\n\n\ndef f():\n    conn = get_db_connection()\n    return conn.x()\n")
    r = run("scan", str(mixed), "--format", "json", "--", "-std=c++17")
    rules = {f["rule"] for f in json.loads(r.stdout)["findings"]}
    check("python and C++ in one run", rules == {"db-connection", "pool-acquire", "mutex-lock"}, str(rules))
    r = run("scan", str(mixed / "a.cpp"), "--format", "sarif", "--", "-std=c++17")
    sarif = json.loads(r.stdout)
    check("sarif for C++", len(sarif["runs"][0]["results"]) == len(expected))

# Fixes: the code base's guard where it has one, else std::unique_ptr with a releasing deleter;
# std::lock_guard for mutexes. Byte for byte against tests/cxx/expected, compiled, idempotent.
with tempfile.TemporaryDirectory() as tmp:
    tmp = pathlib.Path(tmp)
    for name in ("pool.cpp", "noguard.cpp"):
        (tmp / name).write_bytes((FIXTURES / name).read_bytes())
    r = run("fix", "--write", "pool.cpp", "noguard.cpp", "--", "-std=c++17", cwd=tmp)
    check("fix --write: applied", "Applied 14 fixes" in r.stdout, r.stdout[-300:])
    for name in ("pool.cpp", "noguard.cpp"):
        want = (ROOT / "tests/cxx/expected" / name).read_bytes()
        got = (tmp / name).read_bytes()
        check(f"{name}: fixed as expected", got == want,
              subprocess.run(["diff", str(ROOT / "tests/cxx/expected" / name), str(tmp / name)], capture_output=True, text=True).stdout)
        compiled = subprocess.run(["clang++-14", "-std=c++17", "-fsyntax-only", str(tmp / name)], capture_output=True, text=True)
        check(f"{name}: the fixed file compiles", compiled.returncode == 0, compiled.stderr)
    before = {n: (tmp / n).read_bytes() for n in ("pool.cpp", "noguard.cpp")}
    r = run("fix", "--write", "pool.cpp", "noguard.cpp", "--", "-std=c++17", cwd=tmp)
    check("second fix applies nothing", "Applied 0 fixes" in r.stdout, r.stdout[-300:])
    check("second fix changes nothing", all((tmp / n).read_bytes() == b for n, b in before.items()))
    r = run("scan", "pool.cpp", "noguard.cpp", "--format", "json", "--", "-std=c++17", cwd=tmp)
    left = json.loads(r.stdout)["findings"]
    check("what is left cannot be fixed", all(not f["fixable"] for f in left), json.dumps([f["line"] for f in left if f["fixable"]]))
    reasons = {f["line"]: f["reason"] for f in left}
    check("a goto is named as the reason", any("goto" in (v or "") for v in reasons.values()), json.dumps(reasons))
    check("a helper's release is named as the reason", any("give_back" in (v or "") for v in reasons.values()), json.dumps(reasons))
    # A project's .clang-format restyles the changed lines only.
    styled = tmp / "styled"
    styled.mkdir()
    (styled / ".clang-format").write_text("BasedOnStyle: LLVM\nIndentWidth: 4\n")
    (styled / "noguard.cpp").write_bytes((FIXTURES / "noguard.cpp").read_bytes())
    run("fix", "--write", "noguard.cpp", "--", "-std=c++17", cwd=styled)
    text = (styled / "noguard.cpp").read_text()
    check(".clang-format applied to the rewrite", "    auto c_release = [&](Conn *p) { pool.release(p); };" in text, text[:900])
    check(".clang-format leaves other lines", "int count(Conn* c);" in text)
    # --diff is a patch git apply takes.
    fresh = tmp / "fresh"
    fresh.mkdir()
    (fresh / "noguard.cpp").write_bytes((FIXTURES / "noguard.cpp").read_bytes())
    r = run("fix", "--diff", "noguard.cpp", "--", "-std=c++17", cwd=fresh)
    subprocess.run(["git", "init", "-q", str(fresh)], check=True)
    applied = subprocess.run(["git", "apply", "-"], input=r.stdout, text=True, cwd=fresh, capture_output=True)
    check("git apply takes the C++ diff", applied.returncode == 0, applied.stderr)
    check("git apply gives the fixed file", (fresh / "noguard.cpp").read_bytes() == (ROOT / "tests/cxx/expected/noguard.cpp").read_bytes())

# The Python pass never needs Clang: leakfix does not link it, and without the C++ module it
# still scans Python and says why C++ files are skipped.
ldd = subprocess.run(["ldd", LEAKFIX], capture_output=True, text=True).stdout
check("leakfix does not link Clang", "clang" not in ldd and "LLVM" not in ldd, ldd)
with tempfile.TemporaryDirectory() as tmp:
    alone = pathlib.Path(tmp) / "leakfix"
    alone.write_bytes(pathlib.Path(LEAKFIX).read_bytes())
    alone.chmod(0o755)
    r = subprocess.run([str(alone), "scan", "examples/sportsbook", str(FIXTURES / "pool.cpp"), "--format", "json", "--", "-std=c++17"],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    doc = json.loads(r.stdout)
    check("without the C++ module: Python is scanned", len(doc["findings"]) == 16, r.stderr)
    check("without the C++ module: C++ files are named as skipped",
          any("leakfix-cxx.so" in e["message"] for e in doc["errors"]), json.dumps(doc["errors"]))

finish()
