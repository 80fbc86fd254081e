"""The summary cache: a warm scan reports exactly what a cold one (--no-cache) reports, after
edits to a caller, to a wrapper's module, to a rule file, after files come and go, with corrupt
entries and with runs at the same time; and it answers from the cache when it can.

usage: cache_test.py LEAKFIX SOURCE_DIR
"""
import concurrent.futures
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from harness import LEAKFIX, check, finish  # noqa: E402
from harness import ROOT as SOURCE  # noqa: E402


def scan(root, *args, cache=True):
    extra = [] if cache else ["--no-cache"]
    r = subprocess.run([LEAKFIX, "scan", ".", "--format", "json", "-v", *extra, *args], cwd=root, capture_output=True, text=True,
                       env=dict(os.environ, LEAKFIX_CACHE_DIR=str(root.parent / "cache")), timeout=300)
    return r.stdout, r.stderr


def same(root, what, expect_unchanged=None):
    # The files' mtimes must be older than the index by a second for stat alone to be trusted;
    # the test does not wait for that: changed or not, a file read again is found by its bytes.
    warm, err = scan(root)
    cold, _ = scan(root, cache=False)
    check(f"{what}: warm scan equals cold scan", warm == cold and json.loads(warm)["findings"] is not None,
          f"warm {warm[:600]}\ncold {cold[:600]}")
    if expect_unchanged is not None:
        check(f"{what}: the cache says `{expect_unchanged}`", expect_unchanged in err, err)
    return warm


def edit(path, old, new):
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))


work = pathlib.Path(tempfile.mkdtemp(prefix="leakfix-cache-"))
try:
    app = work / "app"
    shutil.copytree(SOURCE / "examples/sportsbook", app)
    (app / "src/routes/helpers.py").write_text(
        "from ..db_compat import get_db_connection\n\n\ndef open_report_db():\n    return get_db_connection()\n")
    (app / "src/routes/reports.py").write_text(
        "from .helpers import open_report_db\n\n\ndef weekly(team):\n    conn = open_report_db()\n"
        "    rows = conn.execute('SELECT * FROM r WHERE team = %s', (team,)).fetchall()\n    return rows\n")
    (app / "src/routes/weekly_helpers.py").write_text(
        "from .helpers import open_report_db\n\n\ndef open_weekly_db():\n    return open_report_db()\n")
    (app / "src/routes/weekly.py").write_text(
        "from .weekly_helpers import open_weekly_db\n\n\ndef summary(team):\n    conn = open_weekly_db()\n"
        "    return conn.execute('SELECT 1').fetchall()\n")
    (app / "src/routes/cleanup.py").write_text("def tidy(c):\n    c.close()\n")
    n = len(list(app.rglob("*.py")))
    first = same(app, "first run (cold, fills the cache)")
    check("the wrapper's caller is reported", any(f["file"] == "src/routes/reports.py" for f in json.loads(first)["findings"]))
    cache_dir = work / "cache"
    check("the cache folder ignores itself for git and carries CACHEDIR.TAG", (cache_dir / ".gitignore").read_text().strip().endswith("*") and (cache_dir / "CACHEDIR.TAG").exists())
    same(app, "nothing changed", f"cache: {n} of {n} files unchanged")

    # A caller's body: only that file is analysed again.
    edit(app / "src/routes/branding.py", "return jsonify(error=\"unknown tenant\"), 404", "return jsonify(error=\"no such tenant\"), 404")
    same(app, "a caller's body edited", f"cache: {n - 1} of {n} files unchanged")
    # A new leak in a caller.
    edit(app / "src/routes/reports.py", "    return rows\n", "    if not rows:\n        return None\n    conn.close()\n    return rows\n")
    out = same(app, "a leak added to a caller", f"cache: {n - 1} of {n} files unchanged")
    check("the new leak is the one reported", [f["kind"] for f in json.loads(out)["findings"] if f["file"] == "src/routes/reports.py"] == ["leaky-path"])

    # The wrapper's module: the wrapper goes, so do the findings that needed it, through the
    # wrapper of the wrapper; only the files that name what changed are analysed again.
    def dependants(err):
        m = re.search(r"(\d+) of them analysed again", err)
        return int(m.group(1)) if m else 0

    def reported(out, file):
        return any(f["file"] == file for f in json.loads(out)["findings"])

    check("the wrapper's wrapper's caller is reported", reported(first, "src/routes/weekly.py"))
    edit(app / "src/routes/helpers.py", "    return get_db_connection()\n", "    return None\n")
    out = same(app, "the wrapper removed from its module", f"cache: {n - 1} of {n} files unchanged, ")
    check("its caller is no longer reported", not reported(out, "src/routes/reports.py"))
    check("nor the caller of the wrapper's wrapper", not reported(out, "src/routes/weekly.py"))
    edit(app / "src/routes/helpers.py", "    return None\n", "    return get_db_connection()\n")
    out, err = scan(app)
    check("the wrapper back: the same as a cold scan", out == scan(app, cache=False)[0])
    check("its caller is reported again", reported(out, "src/routes/reports.py") and reported(out, "src/routes/weekly.py"))
    check("only the files naming the wrapper's names are analysed again", 0 < dependants(err) <= 4, err)

    # A caller starts handing its connection to a release helper no file called before.
    edit(app / "src/routes/weekly.py", "    conn = open_weekly_db()\n    return conn.execute('SELECT 1').fetchall()\n",
         "    from .cleanup import tidy\n    conn = open_weekly_db()\n    rows = conn.execute('SELECT 1').fetchall()\n"
         "    tidy(conn)\n    return rows\n")
    out = same(app, "a caller now calls a release helper", f"cache: {n - 1} of {n} files unchanged")
    check("the helper closes it: only the exception path is reported",
          [f["kind"] for f in json.loads(out)["findings"] if f["file"] == "src/routes/weekly.py"] == ["exception-unsafe"])

    # A rule file: other rules, other entries.
    (app / "src/routes/ledger.py").write_text("def balance(ledger_id):\n    book = open_ledger(ledger_id)\n    return book.total()\n")
    out = same(app, "a file with an acquirer no rule names yet")
    check("nothing is reported in it", not any(f["file"] == "src/routes/ledger.py" for f in json.loads(out)["findings"]))
    (app / ".leakfix.yaml").write_text("id: ledger\nresource: ledger\nacquirers: [open_ledger]\nreleases:\n  methods: [close]\n")
    out = same(app, "a rule file added")
    check("the new rule reports", [f["rule"] for f in json.loads(out)["findings"] if f["file"] == "src/routes/ledger.py"] == ["ledger"])
    (app / ".leakfix.yaml").unlink()
    same(app, "the rule file removed")

    # Files that come and go.
    (app / "src/routes/extra.py").write_text("import sqlite3\n\n\ndef f():\n    c = sqlite3.connect('x')\n    return c.execute('x')\n")
    out = same(app, "a file added")
    check("the added file is reported", any(f["file"] == "src/routes/extra.py" for f in json.loads(out)["findings"]))
    (app / "src/routes/extra.py").unlink()
    same(app, "a file deleted")
    # A top-level name changes (the module's shape): analysed again as a whole.
    edit(app / "src/db_compat.py", "def get_db_connection():", "def get_db_connection():  # the factory")
    same(app, "a module's top level edited")

    # Corrupt entries are ignored and written again.
    entries = [p for p in (cache_dir / "v1").rglob("*") if p.is_file() and p.parent.name != p.parents[1].name and len(p.name) == 30]
    for p in entries[:5]:
        p.write_bytes(b"\x00garbage")
    same(app, "five entries corrupted")
    for p in (cache_dir / "v1").rglob("index"):
        p.write_text("not an index\n")
    same(app, "the index corrupted")

    # Runs at the same time on one cache, with an edit in between.
    edit(app / "src/routes/branding.py", "no such tenant", "tenant not found")
    cold, _ = scan(app, cache=False)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        outs = list(pool.map(lambda _: scan(app)[0], range(6)))
    check("six runs at once on one cache each report what a cold scan does", all(o == cold for o in outs))
    check("no temporary files are left behind", not list((cache_dir / "v1").rglob(".tmp-*")))

    # Shards: each analyses its share into an empty cache (at the same time); a scan without
    # --shard joins them and reports what a cold scan does, analysing again only the files that
    # call what another share discovered.
    shard_cache = work / "shards"
    def shard_run(spec):
        return subprocess.run([LEAKFIX, "scan", ".", "--shard", spec, "--cache-dir", str(shard_cache)], cwd=app, capture_output=True,
                              text=True, timeout=300)
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        runs = list(pool.map(shard_run, ["1/3", "2/3", "3/3"]))
    check("each shard exits 0 and reports nothing on stdout", all(r.returncode == 0 and r.stdout == "" for r in runs),
          [(r.returncode, r.stderr) for r in runs])
    shares = [int(re.search(r"(\d+) files analysed", r.stderr).group(1)) for r in runs]
    m = len(list(app.rglob("*.py")))
    check("the shares split the tree", sum(shares) == m and all(shares), shares)
    r = subprocess.run([LEAKFIX, "scan", ".", "--format", "json", "-v", "--cache-dir", str(shard_cache)], cwd=app, capture_output=True,
                       text=True)
    check("the join reports what a cold scan does", r.stdout == cold, r.stdout[:400])
    check("the join answers from the shards' entries", f"cache: {m} of {m} files unchanged" in r.stderr, r.stderr)
    check("a share's split follows from the paths: the same again",
          [int(re.search(r"(\d+) files analysed", shard_run(s).stderr).group(1)) for s in ["1/3", "2/3", "3/3"]] == shares)
    for bad in ["0/3", "4/3", "1/0", "x", "1/2/3"]:
        r = shard_run(bad)
        check(f"--shard {bad} is refused", r.returncode == 2 and "--shard" in r.stderr, r.stderr)
    r = subprocess.run([LEAKFIX, "scan", ".", "--shard", "1/2", "--no-cache"], cwd=app, capture_output=True, text=True)
    check("--shard without the cache is refused", r.returncode == 2 and "summary cache" in r.stderr, r.stderr)

    # --no-cache neither reads nor writes; --cache-dir moves it.
    shutil.rmtree(cache_dir)
    scan(app, cache=False)
    check("--no-cache writes nothing", not cache_dir.exists())
    r = subprocess.run([LEAKFIX, "scan", ".", "-q", "--cache-dir", str(work / "elsewhere")], cwd=app, capture_output=True)
    check("--cache-dir puts it there", (work / "elsewhere" / "CACHEDIR.TAG").exists())
    # A cache folder that cannot be made: the scan runs without it.
    blocker = work / "blocked"
    blocker.write_text("a file, not a folder")
    r = subprocess.run([LEAKFIX, "scan", ".", "--format", "json", "--cache-dir", str(blocker / "c")], cwd=app, capture_output=True,
                       text=True)
    check("an unusable cache folder: the same report, nothing said", r.stdout == cold and r.stderr == "")
finally:
    shutil.rmtree(work, ignore_errors=True)

finish()
