#!/usr/bin/env python3
"""Golden tests of `leakfix fix`: every case in cases/ rewritten must equal expected/, byte for
byte; `--diff` must be a patch `git apply` turns into the same bytes; a second `fix` changes
nothing; the results compile; the findings that cannot be fixed say why."""
import json
import pathlib
import py_compile
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from harness import check, finish, leakfix  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent


def run(*args, cwd):
    return leakfix(*args, cwd=cwd, text=False)  # bytes: the files are not all UTF-8


def fresh_copy(tmp, name):
    work = pathlib.Path(tmp) / name
    shutil.copytree(HERE / "cases", work)
    return work


with tempfile.TemporaryDirectory() as tmp:
    # --write
    work = fresh_copy(tmp, "write")
    r = run("fix", "--write", ".", cwd=work)
    check("fix --write exits 1 (unfixable findings remain)", r.returncode == 1, r.stderr.decode())
    for expected in sorted((HERE / "expected").glob("*.py")):
        got = (work / expected.name).read_bytes()
        check(f"{expected.name} matches expected", got == expected.read_bytes(),
              "\n" + subprocess.run(["diff", str(expected), str(work / expected.name)], capture_output=True, text=True,
                                    errors="replace").stdout)
        try:
            py_compile.compile(str(work / expected.name), doraise=True)
        except py_compile.PyCompileError as e:
            check(f"{expected.name} compiles", False, str(e))

    # A second run changes nothing.
    before = {p.name: p.read_bytes() for p in work.glob("*.py")}
    r = run("fix", "--write", ".", cwd=work)
    after = {p.name: p.read_bytes() for p in work.glob("*.py")}
    check("second fix changes nothing", before == after)
    check("second fix reports nothing applied", b"Applied 0 fixes" in r.stdout, r.stdout.decode())

    # --diff is a patch git apply accepts, giving the same bytes.
    work = fresh_copy(tmp, "diff")
    r = run("fix", "--diff", ".", cwd=work)
    check("fix --diff exits 1 (findings are there)", r.returncode == 1)
    untouched = all((work / p.name).read_bytes() == p.read_bytes() for p in (HERE / "cases").glob("*.py"))
    check("--diff writes nothing", untouched)
    patch = pathlib.Path(tmp) / "fix.patch"
    patch.write_bytes(r.stdout)
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    applied = subprocess.run(["git", "apply", "--whitespace=nowarn", str(patch)], cwd=work, capture_output=True, text=True)
    check("git apply accepts the diff", applied.returncode == 0, applied.stderr)
    for expected in sorted((HERE / "expected").glob("*.py")):
        check(f"{expected.name}: git apply gives expected", (work / expected.name).read_bytes() == expected.read_bytes())

    # Findings that cannot be fixed carry their reason; fixable ones their edits and diff.
    work = fresh_copy(tmp, "json")
    r = run("fix", "--format", "json", "shapes.py", cwd=work)
    doc = json.loads(r.stdout)
    by_function = {f["function"]: f for f in doc["findings"]}
    reasons = {
        "not_fixable_reassigned": "bound again",
        "not_fixable_rebound_by_with": "bound again at line",
        "not_fixable_used_after_close": "used after the release",
        "not_fixable_closure": "captured by a closure",
        "not_fixable_lazy_rows": "generator expression",
        "not_fixable_returns_cursor": "may need the connection after the block",
        "factory": "ownership leaves the function",
    }
    # The libraries without an async with that keeps behaviour: said, not rewritten.
    r = run("fix", "--format", "json", "frameworks.py", cwd=work)
    for f in json.loads(r.stdout)["findings"]:
        by_function[f["function"]] = f
    reasons["direct"] = "no `async with` form for asyncpg.connect()"
    reasons["psycopg_in_transaction"] = "commits on exit, where conn.close() rolls back"
    for function, words in reasons.items():
        f = by_function.get(function)
        check(f"{function} not fixable", f is not None and not f["fixable"] and words in (f["reason"] or ""),
              json.dumps(f))
        check(f"{function} has no fix", f is not None and f["fix"] is None)
    fixable = [f for f in doc["findings"] if f["fixable"]]
    check("json: fixable findings carry a fix", fixable and all(f["fix"] and f["fix"]["diff"].startswith("--- a/") and
                                                               f["fix"]["edits"] for f in fixable))
    check("json: summary counts fixable", doc["summary"]["fixable"] == len(fixable))
    # Applying one fix's edits alone to the file as read gives a file that compiles.
    one = by_function["early_return"]["fix"]
    text = (work / "shapes.py").read_text()
    lines = text.splitlines(keepends=True)

    def offset(loc):
        return sum(len(line) for line in lines[: loc["line"] - 1]) + loc["column"] - 1

    for e in sorted(one["edits"], key=lambda e: offset(e["location"]), reverse=True):
        text = text[: offset(e["location"])] + e["content"] + text[offset(e["end_location"]):]
    compile(text, "shapes.py", "exec")
    check("json edits apply", "with connection_ctx() as conn:" in text and "from db import connection_ctx, get_db_connection" in text)

    # --only / --kind narrow what is fixed.
    work = fresh_copy(tmp, "narrow")
    run("fix", "--write", "--kind", "manual-safe", "shapes.py", cwd=work)
    got = (work / "shapes.py").read_text()
    check("--kind manual-safe fixes try_finally", "def try_finally(item_id):\n    with connection_ctx() as conn:" in got)
    check("--kind manual-safe leaves never_closed", "def never_closed(item_id):\n    conn = get_db_connection()" in got)
    r = run("fix", "--write", "--only", "open-file", "drivers.py", cwd=work)
    got = (work / "drivers.py").read_text()
    check("--only open-file fixes open()", "with open(path) as f:" in got and 'conn = sqlite3.connect("app.db")' in got)
    r = run("fix", "--kind", "nonsense", ".", cwd=work)
    check("unknown --kind is a usage error", r.returncode == 2 and b"nonsense" in r.stderr)

    # The file's mode survives the write through a temporary file.
    work = fresh_copy(tmp, "mode")
    (work / "bom.py").chmod(0o640)
    run("fix", "--write", "bom.py", cwd=work)
    check("rewritten file keeps its mode", ((work / "bom.py").stat().st_mode & 0o777) == 0o640)
    check("rewritten file was written", (work / "bom.py").read_bytes() == (HERE / "expected/bom.py").read_bytes())

# Every shape in every layout: shapes.py re-indented with 2 spaces and with tabs, and with CRLF
# endings, must give expected/shapes.py converted the same way.
def reindent(text, unit):
    out = []
    for line in text.splitlines(keepends=True):
        stripped = line.lstrip(" ")
        n = len(line) - len(stripped)
        out.append(unit * (n // 4) + " " * (n % 4) + stripped)
    return "".join(out)


layouts = {
    "two_spaces": lambda t: reindent(t, "  "),
    "tabs": lambda t: reindent(t, "\t"),
    "crlf": lambda t: t.replace("\n", "\r\n"),
    "tabs_crlf": lambda t: reindent(t, "\t").replace("\n", "\r\n"),
}
with tempfile.TemporaryDirectory() as tmp:
    for name, convert in layouts.items():
        work = pathlib.Path(tmp) / name
        work.mkdir()
        source = convert((HERE / "cases/shapes.py").read_text())
        (work / "shapes.py").write_bytes(source.encode())
        shutil.copy(HERE / "cases/db.py", work / "db.py")
        run("fix", "--write", "-q", "shapes.py", cwd=work)
        want = convert((HERE / "expected/shapes.py").read_text()).encode()
        got = (work / "shapes.py").read_bytes()
        check(f"shapes.py in layout {name}", got == want,
              "\n" + "".join(l for l in __import__("difflib").unified_diff(want.decode().splitlines(True), got.decode().splitlines(True))))
        run("fix", "--write", "-q", "shapes.py", cwd=work)
        check(f"shapes.py in layout {name}: second fix changes nothing", (work / "shapes.py").read_bytes() == got)

finish()
