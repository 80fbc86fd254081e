#!/usr/bin/env python3
"""`leakfix fix --write` on small projects shaped like real ones, run as a new user would: scan,
fix --write, fix --write again. Every rewritten module must still import; every function must
return and raise what it did, make the same database calls (a pool's putconn among them) and
leave no connection open where it was rewritten; the second run changes nothing. Each project
also has its own checks: a context manager created where none existed, the project's own used
under its own name, a pool release kept, a guarded import left alone, a virtualenv untouched."""
import importlib
import pathlib
import shutil
import subprocess
import sys
import tempfile
import types

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
import behaviour_test as bt  # noqa: E402  (the fake driver, scenarios and loader)
from harness import check, finish  # noqa: E402

LEAKFIX = str(pathlib.Path(sys.argv[1]).resolve())


class FakePool:
    """psycopg2's pool: getconn() hands out a connection, putconn() takes it back."""

    def __init__(self, *args, **kwargs):
        pass

    def getconn(self):
        return bt.FakeConnection()

    def putconn(self, conn):
        bt.WORLD.calls.append((conn.number, "putconn", ()))
        conn.close()


class CloseOnExit(bt.FakeConnection):
    """mysql.connector, PyMySQL >= 1.0, mysqlclient >= 2.0: `with conn:` only closes it."""

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        self.close()
        return False


def install_fakes():
    bt.install_fakes()

    def module(name, **attrs):
        m = types.ModuleType(name)
        m.__dict__.update(attrs)
        sys.modules[name] = m
        return m

    module("psycopg2.pool", ThreadedConnectionPool=FakePool)
    sys.modules["psycopg2"].pool = sys.modules["psycopg2.pool"]
    connector = module("mysql.connector", connect=CloseOnExit)
    module("mysql", connector=connector)
    mysqldb = types.SimpleNamespace(connect=CloseOnExit)
    module("flask_mysqldb", MySQLdb=mysqldb)


def fix(root):
    return subprocess.run([LEAKFIX, "fix", "--write", "."], cwd=root, capture_output=True, text=True)


def tree(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.py")) if "__pycache__" not in p.parts}


def modules_of(root):
    out = []
    for p in sorted(root.rglob("*.py")):
        rel = p.relative_to(root)
        if any(part in ("env", "build") for part in rel.parts):
            continue
        parts = list(rel.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if parts:
            out.append(".".join(parts))
    return out


class FakeFile(bt.FakeFile):
    """A file whose opening and closing the fake world counts."""

    def __repr__(self):
        return f"<file {self.conn.number} {'closed' if self.closed else 'open'}>"

    @property
    def closed(self):
        return self.conn.closed

    def fileno(self):
        bt.WORLD.use(self.conn, "fileno", ())
        return 3

    def flush(self):
        bt.WORLD.use(self.conn, "flush", ())


def same_behaviour(name, before_root, after_root, patch=None):
    """Every function, every scenario: the same outcome and calls; nothing left open where rewritten."""
    names = modules_of(before_root)
    try:
        after = bt.load(after_root, names)
    except Exception as e:  # noqa: BLE001 - an import error is what this test looks for
        check(f"{name}: every rewritten module imports", False, f"{type(e).__name__}: {e}")
        return
    check(f"{name}: every rewritten module imports", True)
    before = bt.load(before_root, names)
    for mod in list(before.values()) + list(after.values()):
        if patch:
            patch(mod)
    failures, rewritten_count, scenarios = [], 0, 0
    for m in names:
        for fname, fb in bt.functions_of(before[m]):
            fa = dict(bt.functions_of(after[m])).get(fname)
            if fa is None:
                failures.append(f"{m}.{fname} is gone")
                continue
            if m.endswith(".db") or m == "db":
                continue
            rewritten = bt.source_of(fa) != bt.source_of(fb)
            rewritten_count += rewritten
            for args in bt.argument_sets(fb):
                for empty in (False, True):
                    _, _, _, total = bt.observe(fb, args, empty, None)
                    for fail_at in [None] + list(range(1, total + 1)):
                        ob = bt.observe(fb, args, empty, fail_at)
                        oa = bt.observe(fa, args, empty, fail_at)
                        scenarios += 1
                        where = f"{m}.{fname}{args} empty={empty} fail_at={fail_at}"
                        if ob[0] != oa[0]:
                            failures.append(f"{where}: result {ob[0]} became {oa[0]}")
                        if ob[1] != oa[1] and not (rewritten and calls_only_gain_release(ob[1], oa[1])):
                            failures.append(f"{where}: calls {ob[1]} became {oa[1]}")
                        if rewritten and oa[2]:
                            failures.append(f"{where}: {len(oa[2])} connection(s) left open after the rewrite")
    for f in failures[:20]:
        print("  ", f)
    check(f"{name}: same behaviour, nothing left open ({rewritten_count} rewritten, {scenarios} scenarios)", not failures)


def calls_only_gain_release(before, after):
    """A leak fixed on a path gives the connection back there: a putconn the code did not make."""
    extra = list(after)
    for c in before:
        if c not in extra:
            return False
        extra.remove(c)
    return all(c[1] == "putconn" for c in extra)


def run_project(name, tmp, extra_setup=None, label=None):
    before = tmp / f"{label or name}_before"
    after = tmp / f"{label or name}_after"
    shutil.copytree(HERE / "projects" / name, before)
    if extra_setup:
        extra_setup(before)
    shutil.copytree(before, after)
    first = fix(after)
    check(f"{name}: fix --write runs", first.returncode in (0, 1), first.stderr)
    once = tree(after)
    second = fix(after)
    check(f"{name}: a second fix --write changes nothing", tree(after) == once and "Applied 0 fixes" in second.stdout,
          second.stdout)
    return before, after, first


install_fakes()
with tempfile.TemporaryDirectory() as t:
    tmp = pathlib.Path(t)

    before, after, out = run_project("create_ctx", tmp)
    db = (after / "app/db.py").read_text()
    check("create_ctx: connection_ctx created next to get_db_connection", "def connection_ctx(*args, **kwargs):" in db and
          db.index("def get_db_connection") < db.index("def connection_ctx") < db.index("def table_names"), db)
    check("create_ctx: the created context manager closes", "        conn.close()" in db, db)
    users = (after / "app/routes/users.py").read_text()
    check("create_ctx: the cursor stays inside the block",
          "        cur.execute(\"SELECT id, name FROM users WHERE id = ?\", (user_id,))\n"
          "        return {k: v for k, v in cur.fetchall()}" in users, users)
    check("create_ctx: every other finding fixed", users.count("with connection_ctx() as conn:") == 4, users)
    check("create_ctx: a cursor used after close() is refused", "def closed_cursor(user_id):\n    # Refused: the cursor is used after close(), on purpose.\n    conn = get_db_connection()" in users and
          "is used after the release" in out.stdout, out.stdout)
    check("create_ctx: the summary names what was created", "Created connection_ctx() in app/db.py" in out.stdout, out.stdout)
    same_behaviour("create_ctx", before, after)

    before, after, out = run_project("pool_release", tmp)
    db = (after / "app/db.py").read_text()
    check("pool_release: the created context manager gives back to the pool", "        release_db_connection(conn)" in db, db)
    items = (after / "app/routes/items.py").read_text()
    check("pool_release: no release left by hand, none lost", "release_db_connection(conn)" not in items and
          items.count("with connection_ctx() as conn:") == 3, items)
    same_behaviour("pool_release", before, after)

    before, after, out = run_project("own_ctx", tmp)
    reports = (after / "app/reports.py").read_text()
    check("own_ctx: the project's db_session() is used, not the committing transaction()",
          "with db_session() as conn:" in reports and "from app.db import db_session" in reports, reports)
    check("own_ctx: nothing created", "connection_ctx" not in (after / "app/db.py").read_text())
    same_behaviour("own_ctx", before, after)

    before, after, out = run_project("split_ctx", tmp)
    orders = (after / "app/routes/orders.py").read_text()
    check("split_ctx: the project's Connection class in another module is used",
          "from app.db.context import Connection" in orders and "with Connection() as conn:" in orders, orders)
    same_behaviour("split_ctx", before, after)

    scan = subprocess.run([LEAKFIX, "scan", "--format", "json", "."], cwd=HERE / "projects/mysql_with", capture_output=True,
                          text=True)
    check("mysql_with: no finding on a with whose driver closes", '"function": "managed"' not in scan.stdout, scan.stdout)
    check("mysql_with: MySQLdb re-exported by flask_mysqldb is found", '"function": "legacy"' in scan.stdout, scan.stdout)
    before, after, out = run_project("mysql_with", tmp)
    same_behaviour("mysql_with", before, after)

    def vendored(root):
        site = root / "env/lib/python3.11/site-packages/thirdparty"
        site.mkdir(parents=True)
        (root / "env/pyvenv.cfg").write_text("home = /usr/bin\n")
        (site / "config.py").write_text("def read_config(path):\n    f = open(path)\n    return f.read()\n")
        (root / "build/lib").mkdir(parents=True)
        shutil.copy(site / "config.py", root / "build/lib/config.py")

    before, after, out = run_project("vendored", tmp, vendored)
    check("vendored: the virtualenv and build output are untouched",
          (after / "env/lib/python3.11/site-packages/thirdparty/config.py").read_bytes() ==
          (before / "env/lib/python3.11/site-packages/thirdparty/config.py").read_bytes() and
          (after / "build/lib/config.py").read_bytes() == (before / "build/lib/config.py").read_bytes())
    check("vendored: the project's own file is fixed", "with open(path) as f:" in (after / "app/files.py").read_text())
    forced = subprocess.run([LEAKFIX, "scan", "--concise", "--no-default-excludes", "."], cwd=before, capture_output=True,
                            text=True)
    check("vendored: --no-default-excludes walks them", "env/lib/python3.11" in forced.stdout and "build/lib" in forced.stdout,
          forced.stdout)

    def deep(root):
        lines, indent = ["def deep(path):"], "    "
        for i in range(20):
            lines.append(f"{indent}for v{i} in range(1):")
            indent += " "
        lines += [indent + "f = open(path)", indent + "data = f.read()", indent + "f.close()", indent + "return data"]
        (root / "deep.py").write_text("\n".join(lines) + "\n")

    before, after, out = run_project("vendored", tmp, deep, label="deep")
    check("deep: a with past CPython's 20 nested blocks is refused", (after / "deep.py").read_bytes() == (before / "deep.py").read_bytes()
          and "past the 20 CPython allows" in out.stdout, out.stdout)

    before, after, out = run_project("guarded_import", tmp)
    check("guarded_import: nothing rewritten", tree(after) == tree(before))
    check("guarded_import: the reason names the guarded import", "the import of get_db_connection() at line 2 is guarded" in out.stdout,
          out.stdout)

    before, after, out = run_project("sqlite_with", tmp)
    store = (after / "store.py").read_text()
    check("sqlite_with: closing() around the driver's own with",
          store.count('with contextlib.closing(sqlite3.connect("app.db")) as conn, conn:') == 2, store)
    same_behaviour("sqlite_with", before, after)

    before, after, out = run_project("open_cases", tmp)
    files = (after / "files.py").read_text()
    check("open_cases: a .closed guard is a release", "    with open(path) as fh:\n        data = fh.read()\n    return data" in files,
          files)
    check("open_cases: a swallowed close is refused", "sits in a try whose except" in out.stdout, out.stdout)
    check("open_cases: a descriptor that dies with its file is refused", "`fd`, which needs `f` open" in out.stdout, out.stdout)
    check("open_cases: work after a close is not moved before it", "and would run before the with closes it" in out.stdout,
          out.stdout)
    check("open_cases: a log line after a close does not stop the fix", "def close_then_log(path):\n    with open(path) as f:" in files,
          files)
    check("open_cases: a wrapper that can give None is not put in a with where the code tests for None",
          files.count("as if open_config() could give None") == 0 and "def read_config(path):\n    # Refused: the wrapper can give None, and the code tests for it.\n    f = open_config(path)" in files
          and "could give None" in out.stdout and "def touch_config(path):\n    # Refused too: `if f: f.close()` after a wrapper that can give None.\n    f = open_config(path)" in files,
          out.stdout)
    check("open_cases: a release helper that does more than close is kept", "        sync_close(f)" in files and
          "gives it back with sync_close(f), and the with of open() would only close it" in out.stdout, out.stdout)
    same_behaviour("open_cases", before, after, patch=lambda mod: setattr(mod, "open", FakeFile))

finish()
