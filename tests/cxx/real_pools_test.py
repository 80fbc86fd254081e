#!/usr/bin/env python3
"""Shapes of real C++ pools (tests/cxx/real_pools): the findings written in the file, then
`fix --write` three times, the fixed program compiled with the same command and run. Its results
must not change, no connection may be left out afterwards, and the second and third runs must
have nothing left to do."""
import json
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from harness import ROOT, check, finish, leakfix  # noqa: E402

PROJECT = ROOT / "tests/cxx/real_pools"
FLAGS = ["-std=c++17"]


def build_and_run(folder):
    exe = folder / "demo"
    built = subprocess.run(["clang++-14", *FLAGS, "-o", str(exe), str(folder / "real_pools.cpp")], capture_output=True, text=True)
    if built.returncode != 0:
        return None, built.stderr
    ran = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    return ran.stdout, ran.stderr


with tempfile.TemporaryDirectory() as tmp:
    work = pathlib.Path(tmp) / "app"
    shutil.copytree(PROJECT, work)
    source = work / "real_pools.cpp"
    expected = {n: m.group(1) for n, line in enumerate(source.read_text().splitlines(), 1)
                if (m := re.search(r"// expect: ([a-z-]+)", line))}

    r = leakfix("scan", "real_pools.cpp", "--format", "json", "--", *FLAGS, cwd=work, timeout=300)
    found = {f["line"]: f for f in json.loads(r.stdout)["findings"]}
    for line, kind in sorted(expected.items()):
        check(f"line {line} is {kind}", line in found and found[line]["kind"] == kind,
              found[line]["kind"] if line in found else "not found")
    for line, f in sorted(found.items()):
        check(f"line {line}: no unexpected finding", line in expected, f"{f['kind']}: {f['message']}")
    check("a spinlock's void acquire() is not a connection", not any("SpinLock" in f["message"] for f in found.values()))
    returned = next((f for f in found.values() if f["function"] == "returned_or_dropped"), None)
    fixable = [f for f in found.values() if f["kind"] in ("leaky-path", "exception-unsafe", "never-closed") and f is not returned]
    first = next((f for f in found.values() if f["variable"] == "first"), None)
    check("a release is never moved past another acquire() from the same pool",
          first is not None and not first["fixable"] and "another acquire() at line" in (first.get("reason") or ""), json.dumps(first))
    for f in fixable:
        check(f"line {f['line']} is fixable", f["fixable"], f.get("reason"))
    check("a handle also returned is not put in a guard, and says why", returned is not None and not returned["fixable"]
          and "returned at line" in (returned.get("reason") or ""), json.dumps(returned))

    # The same shape in Python gets the same kind (one verdict rule for both languages).
    (work / "same.py").write_text("from db import get_db_connection\n\n\ndef returned_or_dropped(keep):\n"
                                  "    conn = get_db_connection()\n    if keep:\n        return conn\n    return None\n")
    py = json.loads(leakfix("scan", "same.py", "--format", "json", cwd=work).stdout)["findings"]
    check("Python and C++ give the same kind", returned is not None and [f["kind"] for f in py] == [returned["kind"]],
          json.dumps([f["kind"] for f in py]))
    (work / "same.py").unlink()

    # Every output states a C++ fix in C++: its header is an #include, never a Python import.
    fixes = json.loads(leakfix("fix", "real_pools.cpp", "--format", "json", "--", *FLAGS, cwd=work, timeout=300).stdout)
    contents = [e["content"] for f in fixes["findings"] if f.get("fix") for e in f["fix"]["edits"]]
    check("JSON fixes add #include <memory>", "#include <memory>\n" in contents, json.dumps(contents)[:400])
    check("no fix output is Python", not any("import" in c for c in contents), json.dumps(contents)[:400])
    sarif = leakfix("scan", "real_pools.cpp", "--format", "sarif", "--", *FLAGS, cwd=work, timeout=300).stdout
    check("SARIF fixes add #include <memory>", "#include <memory>" in sarif and "from #include" not in sarif)

    before, err = build_and_run(work)
    check("the program builds and runs before", before is not None, err)
    check("before: connections are left out", before is not None and "outstanding=4" in before, before)

    r = leakfix("fix", "--write", "real_pools.cpp", "--", *FLAGS, cwd=work, timeout=300)
    check("fix --write applies every fix", "Applied 7 fixes" in r.stdout, r.stdout[-800:] + r.stderr[-800:])
    text = source.read_text()
    check("the pool held through a pointer is called through it", "pool->release(p)" in text and "pool.release(p)" not in text.split("int logged")[0])
    check("a release keeps every argument", "shards.free_shard(key, p)" in text and 'db.free("name", p)' in text)
    check("nothing is written inside a macro's name", "LOG_ERROR(\"conn %p\\n\", static_cast<void*>(c.get()));" in text, text)
    check("<memory> is included once", text.count("#include <memory>") == 1)

    after, err = build_and_run(work)
    check("the fixed program builds and runs", after is not None, err)
    if before and after:
        strip = lambda out: re.sub(r" outstanding=\d+", "", out)  # noqa: E731
        check("same results and exceptions", strip(before) == strip(after), f"{before!r} -> {after!r}")
        check("after: nothing left out", "outstanding=0" in after, after)

    for attempt in ("second", "third"):
        snapshot = source.read_bytes()
        r = leakfix("fix", "--write", "real_pools.cpp", "--", *FLAGS, cwd=work, timeout=300)
        check(f"the {attempt} fix applies nothing", "Applied 0 fixes" in r.stdout, r.stdout[-400:])
        check(f"the {attempt} fix changes nothing", source.read_bytes() == snapshot)

finish()
