"""Runtime attribution end to end: the example app runs under leakfix_runtime with a bounded
load (examples/sportsbook-load/run.py), once as shipped and once after `fix --write` (and the
one fix the plan leaves to a person); the counts per line are exact; `plan --runtime` joins them
to the findings, survives inserted lines, reads a Prometheus scrape, and lists leaks no finding
explains; `runtime install` and the sitecustomize hook work; the module never raises.

usage: runtime_test.py LEAKFIX
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from harness import LEAKFIX, ROOT, check, finish  # noqa: E402

ROUNDS = 3
# The lines of the shipped app that leak under the load, once a round each.
LEAKING = {
    "src/routes/branding.py:11", "src/routes/branding.py:21", "src/routes/comprehensive_admin.py:24",
    "src/routes/json_sports.py:13", "src/routes/json_sports.py:18", "src/routes/multitenant_routing.py:17",
    "src/routes/sportsbook_registration.py:12", "src/routes/superadmin.py:23",
}


def run(*args, cwd, env=None, check_rc=True):
    r = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=300, env=env)
    if check_rc and r.returncode not in (0, 1):
        print(f"FAIL: {' '.join(map(str, args))} exited {r.returncode}: {r.stderr[-800:]}")
    return r


def load(work, out):
    r = run(sys.executable, work / "sportsbook-load/run.py", "--rounds", str(ROUNDS), "--out", out, "--app", work / "sportsbook",
            "--runtime", ROOT / "runtime", "--rules", work / "rules.json", cwd=work)
    sites = {}
    for line in r.stdout.splitlines():
        m = re.match(r"(\S+:\d+) \S+ leaked=(\d+) open=(\d+) acquired=(\d+)", line)
        if m:
            sites[m.group(1)] = (int(m.group(2)), int(m.group(3)), int(m.group(4)))
    out_line = re.search(r"checked out after the load: (\d+)", r.stdout)
    return sites, int(out_line.group(1)) if out_line else -1, r


work = pathlib.Path(tempfile.mkdtemp(prefix="leakfix-runtime-"))
try:
    shutil.copytree(ROOT / "examples/sportsbook", work / "sportsbook")
    shutil.copytree(ROOT / "examples/sportsbook-load", work / "sportsbook-load")
    app = work / "sportsbook"
    rules = run(LEAKFIX, "runtime", "rules", "-o", work / "rules.json", cwd=app)
    exported = json.loads((work / "rules.json").read_text())
    check("runtime rules exports the rule's factory and the discovered wrapper",
          {"get_db_connection", "open_tenant_db"} <= {a["call"] for a in exported["acquirers"]}, exported)

    # --- the app as shipped ----------------------------------------------------------------
    before, checked_out, r = load(work, work / "before.jsonl")
    leaks = {k: v[0] for k, v in before.items() if v[0]}
    check("exactly the leaking routes' lines leak, once a round", leaks == {k: ROUNDS for k in LEAKING}, (leaks, r.stderr[-500:]))
    check("the pool has one connection checked out per leak", checked_out == ROUNDS * len(LEAKING), checked_out)
    check("a wrapper's handle is counted at its caller's line (resolve_tenant, not open_tenant_db)",
          "src/routes/multitenant_routing.py:10" not in before and before.get("src/routes/multitenant_routing.py:17", (0,))[0] == ROUNDS)
    check("lines that close on every path never leak", before.get("src/routes/comprehensive_admin.py:13", (1,))[0] == 0)

    # The incident's safety net: leaked connections given back to the pool by the finalizer.
    r = run(sys.executable, work / "sportsbook-load/run.py", "--rounds", str(ROUNDS), "--release-leaked", "--app", work / "sportsbook",
            "--runtime", ROOT / "runtime", "--rules", work / "rules.json", cwd=work)
    net = {m.group(1): int(m.group(2)) for m in re.finditer(r"(\S+:\d+) \S+ leaked=(\d+)", r.stdout)}
    check("with release_leaked the leaks are still counted", {k: v for k, v in net.items() if v} == {k: ROUNDS for k in LEAKING}, net)
    check("and the pool has every connection back", "checked out after the load: 0" in r.stdout, r.stdout[-300:])

    # plan --runtime: the observed leaks on the findings, leaking ones first in each phase.
    plan = json.loads(run(LEAKFIX, "plan", ".", "-q", "--format", "json", "--runtime", work / "before.jsonl", cwd=app).stdout)
    items = [i for p in plan["phases"] for i in p["items"]] + plan["review"]
    observed = {f"{i['file']}:{i['line']}": i["observed"]["leaked"] for i in items if i.get("observed")}
    check("plan --runtime puts the counts on the findings", {k: v for k, v in observed.items() if v} == {k: ROUNDS for k in LEAKING},
          observed)
    check("findings that never leaked say so", observed.get("src/routes/public_leaderboard.py:12") == 0, observed)
    phase1 = plan["phases"][0]
    first_files = [f["file"] for f in phase1["files"]]
    leaked_by_file = {}
    for i in phase1["items"]:
        leaked_by_file[i["file"]] = max(leaked_by_file.get(i["file"], -1), (i.get("observed") or {}).get("leaked", -1))
    check("phase 1's files are in order of observed leaks", [leaked_by_file[f] for f in first_files] ==
          sorted((leaked_by_file[f] for f in first_files), reverse=True), [(f, leaked_by_file[f]) for f in first_files])
    check("no unexplained leaks when every leak has a finding", plan["runtime"]["unexplained"] == [], plan["runtime"])
    md = run(LEAKFIX, "plan", ".", "-q", "--runtime", work / "before.jsonl", cwd=app).stdout
    check("the Markdown plan shows the leaks and the measurable criterion",
          "**3 leaks**" in md and "`leakfix_leaked_total` for the phase's" in md and "never seen leaking" in md, md[:1500])
    scan = run(LEAKFIX, "scan", ".", "--runtime", work / "before.jsonl", cwd=app).stdout
    check("scan --runtime says what each finding did", "observed: leaked 3 times in production" in scan, scan[:800])

    # The join survives lines inserted above (the deployed code is older than the tree).
    branding = app / "src/routes/branding.py"
    original = branding.read_text()
    branding.write_text('"""Moved."""\n# one\n# two\n' + original)
    plan = json.loads(run(LEAKFIX, "plan", ".", "-q", "--format", "json", "--runtime", work / "before.jsonl", cwd=app).stdout)
    moved = {f"{i['file']}:{i['line']}": i["observed"]["leaked"] for p in plan["phases"] for i in p["items"] if i.get("observed")}
    check("after three lines are inserted, the counts land on the moved findings",
          moved.get("src/routes/branding.py:14") == ROUNDS and moved.get("src/routes/branding.py:24") == ROUNDS, moved)
    branding.write_text(original)

    # Sites no finding explains: a line of a scanned file with no finding, and a file not scanned.
    extra = work / "extra.jsonl"
    snapshot = {"time": 1.0e9, "pid": 99, "sites": [
        {"file": "/srv/app/src/routes/theme_customization.py", "line": 11, "function": "get_theme", "text": "with connection_ctx() as conn:",
         "acquired": 9, "open": 1, "leaked": 2, "last_leak": 1.0e9, "last_seen": 1.0e9},
        {"file": "/srv/app/src/plugins/reports.py", "line": 5, "function": "weekly", "text": "conn = make_conn()",
         "acquired": 4, "open": 0, "leaked": 4, "last_leak": 1.0e9, "last_seen": 1.0e9}]}
    extra.write_text((work / "before.jsonl").read_text() + json.dumps(snapshot) + "\n")
    plan = json.loads(run(LEAKFIX, "plan", ".", "-q", "--format", "json", "--runtime", extra, cwd=app).stdout)
    unexplained = {(u["file"].rsplit("/", 1)[-1], u["line"]): u["hint"] for u in plan["runtime"]["unexplained"]}
    check("leaks without a finding are listed with a hint", set(unexplained) == {("theme_customization.py", 11), ("reports.py", 5)},
          unexplained)
    check("a file not scanned says so", "not in the tree scanned" in unexplained.get(("reports.py", 5), ""), unexplained)
    check("a scanned line without a finding points at what the analysis cannot see",
          "cannot follow" in unexplained.get(("theme_customization.py", 11), ""), unexplained)
    check("two processes are summed", plan["runtime"]["processes"] == 2, plan["runtime"])

    # A Prometheus scrape gives the same leaks.
    prom = run(sys.executable, work / "sportsbook-load/run.py", "--rounds", str(ROUNDS), "--prometheus", work / "scrape.prom",
               "--app", work / "sportsbook", "--runtime", ROOT / "runtime", "--rules", work / "rules.json", cwd=work)
    prom.stdout = (work / "scrape.prom").read_text()
    check("the Prometheus text names leakfix_leaked_total and leakfix_open_connections",
          "leakfix_leaked_total{site=" in prom.stdout and "leakfix_open_connections{site=" in prom.stdout, prom.stdout[:300])
    plan = json.loads(run(LEAKFIX, "plan", ".", "-q", "--format", "json", "--runtime", work / "scrape.prom", cwd=app).stdout)
    scraped = {f"{i['file']}:{i['line']}": i["observed"]["leaked"] for p in plan["phases"] for i in p["items"] if i.get("observed")}
    check("plan --runtime reads a Prometheus scrape", {k: v for k, v in scraped.items() if v} == {k: ROUNDS for k in LEAKING}, scraped)
    bad = work / "bad.txt"
    bad.write_text("hello\nworld\n")
    r = run(LEAKFIX, "plan", ".", "-q", "--runtime", bad, cwd=app, check_rc=False)
    check("a file that is not runtime counts is an error naming it", r.returncode == 2 and "bad.txt" in r.stderr, r.stderr)
    r = run(LEAKFIX, "plan", ".", "-q", "--runtime", work / "missing.jsonl", cwd=app, check_rc=False)
    check("a missing counts file is an error naming it", r.returncode == 2 and "missing.jsonl" in r.stderr, r.stderr)

    # --- after the fixes ---------------------------------------------------------------------
    run(LEAKFIX, "fix", ".", "--write", "-q", cwd=app)
    # The one leak the plan leaves to a person: the comprehension's connection, given a name.
    sports = app / "src/routes/json_sports.py"
    text = sports.read_text()
    by_hand = '    return jsonify([dict(r) for r in get_db_connection().execute("SELECT * FROM sports")])  # expect: never-closed\n'
    check("the by-hand fix applies", by_hand in text, text[:600])
    sports.write_text(text.replace(by_hand, '    with connection_ctx() as conn:\n'
                                           '        return jsonify([dict(r) for r in conn.execute("SELECT * FROM sports")])\n'))
    after, checked_out, r = load(work, work / "after.jsonl")
    check("after the fixes the same load leaks nothing", sum(v[0] for v in after.values()) == 0, (after, r.stderr[-800:]))
    check("and leaves no connection open or checked out when idle",
          sum(v[1] for v in after.values()) == 0 and checked_out == 0, (after, checked_out))
    check("the load still reaches the database as often", sum(v[2] for v in after.values()) > 0, after)
    plan = json.loads(run(LEAKFIX, "plan", ".", "-q", "--format", "json", "--runtime", work / "after.jsonl", cwd=app).stdout)
    check("the plan after the fixes has no leak to rank", all(not (i.get("observed") or {}).get("leaked") for p in plan["phases"]
                                                               for i in p["items"]), plan["phases"][:1])

    # --- runtime install and the sitecustomize hook ------------------------------------------
    site = work / "site"
    site.mkdir()
    r = run(LEAKFIX, "runtime", "install", site, cwd=work)
    check("runtime install writes the module and sitecustomize.py",
          (site / "leakfix_runtime.py").read_text() == (ROOT / "runtime/leakfix_runtime.py").read_text()
          and "install_from_env" in (site / "sitecustomize.py").read_text(), r.stderr)
    (site / "sitecustomize.py").write_text("# the project's own\n")
    r = run(LEAKFIX, "runtime", "install", site, cwd=work)
    check("an existing sitecustomize.py is left alone and the line to add is given",
          (site / "sitecustomize.py").read_text() == "# the project's own\n" and "install_from_env" in r.stderr, r.stderr)
    (site / "sitecustomize.py").unlink()
    run(LEAKFIX, "runtime", "install", site, cwd=work)
    script = work / "leaky.py"
    script.write_text("import sqlite3\n\ndef f():\n    c = sqlite3.connect(':memory:')\n    c.execute('select 1')\n\n"
                      "for _ in range(4):\n    f()\nc = sqlite3.connect(':memory:')\nc.close()\n")
    env = dict(os.environ, PYTHONPATH=str(site), LEAKFIX_RUNTIME="1", LEAKFIX_RUNTIME_OUT=str(work / "hook.jsonl"),
               LEAKFIX_RUNTIME_ROOT=str(work))
    r = run(sys.executable, script, cwd=work, env=env)
    lines = (work / "hook.jsonl").read_text().splitlines() if (work / "hook.jsonl").exists() else []
    sites = {s["line"]: s for s in json.loads(lines[-1])["sites"]} if lines else {}
    check("LEAKFIX_RUNTIME=1 through sitecustomize counts sqlite3's leaks", sites.get(4, {}).get("leaked") == 4 and
          sites.get(9, {}).get("leaked") == 0, (sites, r.stderr))
    r = run(sys.executable, script, cwd=work, env=dict(env, LEAKFIX_RUNTIME="0", LEAKFIX_RUNTIME_OUT=str(work / "off.jsonl")))
    check("LEAKFIX_RUNTIME=0 leaves the program alone", not (work / "off.jsonl").exists() and r.returncode == 0)

    # --- exact under threads -----------------------------------------------------------------
    r = run(sys.executable, "-c", f"""
import sys, threading, gc
sys.path.insert(0, {str(ROOT / 'runtime')!r})
import leakfix_runtime as rt
class Conn:
    def close(self):
        pass
def get_db_connection():
    return Conn()
mod = type(sys)("threaded_app"); mod.__file__ = {str(work / 'threaded_app.py')!r}; mod.get_db_connection = get_db_connection
sys.modules["threaded_app"] = mod
rt.install(root={str(work)!r})
f = mod.get_db_connection
def worker():
    for i in range(3000):
        c = f()
        if i % 3:
            c.close()
threads = [threading.Thread(target=worker) for _ in range(8)]
[t.start() for t in threads]
[t.join() for t in threads]
gc.collect()
(s,) = [v for v in rt.counts().values() if v["function"] == "worker"]
print(s["acquired"], s["leaked"], s["open"])
""", cwd=work)
    check("8 threads at once: every acquisition, leak and release counted", r.stdout.split() == ["24000", "8000", "0"], (r.stdout, r.stderr))

    # --- it never raises into the application -----------------------------------------------
    r = run(sys.executable, "-c", f"""
import sys
sys.path.insert(0, {str(ROOT / 'runtime')!r})
import leakfix_runtime as rt, sqlite3
rt.install()
def broken(*a, **k):
    raise RuntimeError("bookkeeping broke")
rt._runtime.site_of = broken
for _ in range(3):
    c = sqlite3.connect(":memory:")
    assert c.execute("select 41 + 1").fetchone()[0] == 42
    c.close()
print("ok", rt._runtime.failed)
""", cwd=work)
    check("a failure of its own bookkeeping is said once and the application goes on",
          r.stdout.strip() == "ok True" and r.stderr.count("stepping aside") == 1, (r.stdout, r.stderr))
finally:
    shutil.rmtree(work, ignore_errors=True)

finish()
