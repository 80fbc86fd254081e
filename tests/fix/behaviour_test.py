#!/usr/bin/env python3
"""Runs Python before and after `leakfix fix --write` and compares what it does.

Every function of the example app and of the golden fix cases is called under many scenarios:
every parameter value of interest, queries that find nothing (early exits), and each database call
made to fail in turn. A fake connection records the calls made on it, counts opens and closes and
raises when it is used after close(). The rewrite must keep results, exceptions and database
calls, and leave no connection open in the functions it rewrote."""
import asyncio
import contextlib
import importlib
import inspect
import itertools
import linecache
import pathlib
import shutil
import subprocess
import sys
import tempfile
import types

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
LEAKFIX = str(pathlib.Path(sys.argv[1]).resolve())


class DatabaseError(Exception):
    pass


class World:
    """One scenario: what queries return and which call fails."""

    def __init__(self, empty=False, fail_at=None):
        self.empty = empty
        self.fail_at = fail_at
        self.calls = []
        self.count = 0
        self.open = {}  # connection number -> the function of the code under test that opened it
        self.opened = 0

    def use(self, conn, name, args):
        if conn.closed:
            raise RuntimeError(f"{name}() on a closed connection")
        self.count += 1
        self.calls.append((conn.number, name, args))
        if self.count == self.fail_at:
            raise DatabaseError(f"call {self.count} fails")


WORLD = World()


class Row(tuple):
    """A row that is a tuple and, like sqlite3.Row, also a mapping for dict(row)."""

    NAMES = ("id", "name")

    def keys(self):
        return list(self.NAMES[: len(self)])

    def __getitem__(self, key):
        if isinstance(key, str):
            return tuple.__getitem__(self, self.NAMES.index(key))
        return tuple.__getitem__(self, key)


ROWS = [Row((1, "one")), Row((2, "two"))]


class FakeCursor:
    def __init__(self, conn):
        self.conn = conn

    def __repr__(self):
        return f"<cursor of {self.conn!r}>"

    def execute(self, sql, params=()):
        WORLD.use(self.conn, "cursor.execute", (sql, tuple(params)))
        return self

    def fetchone(self):
        self.check()
        return None if WORLD.empty else ROWS[0]

    def fetchall(self):
        self.check()
        return [] if WORLD.empty else list(ROWS)

    def check(self):
        if self.conn.closed:
            raise RuntimeError("fetch from a cursor of a closed connection")

    def __iter__(self):
        return iter(self.fetchall())

    def __getitem__(self, i):
        return self.fetchall()[i]


class FakeConnection:
    """A DB-API connection; `with conn:` scopes a transaction (sqlite3/psycopg2)."""

    def __init__(self, *args, **kwargs):
        self.number = WORLD.opened
        WORLD.opened += 1
        frame = sys._getframe(1)
        while frame and (frame.f_code.co_filename == __file__ or "contextlib" in frame.f_code.co_filename):
            frame = frame.f_back
        # Who opened it, and whether from a with statement (a rewritten acquisition).
        line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip() if frame else ""
        WORLD.open[self.number] = (frame.f_code.co_name if frame else "?", line.startswith(("with ", "async with ")))
        self.closed = False

    def __repr__(self):
        return f"<connection {self.number} {'closed' if self.closed else 'open'}>"

    def execute(self, sql, params=()):
        WORLD.use(self, "execute", (sql, tuple(params)))
        return FakeCursor(self)

    def cursor(self):
        WORLD.use(self, "cursor", ())
        return FakeCursor(self)

    def commit(self):
        WORLD.use(self, "commit", ())

    def rollback(self):
        WORLD.use(self, "rollback", ())

    def close(self):
        self.closed = True
        WORLD.open.pop(self.number, None)

    def __enter__(self):
        WORLD.use(self, "begin", ())
        return self

    def __exit__(self, kind, value, tb):
        WORLD.use(self, "commit" if kind is None else "rollback", ())
        return False


class ClosingConnection(FakeConnection):
    """psycopg 3: `with conn:` commits (or rolls back) and closes."""

    def __exit__(self, kind, value, tb):
        super().__exit__(kind, value, tb)
        self.close()
        return False


class FakeFile:
    def __init__(self, path, *args, **kwargs):
        self.conn = FakeConnection()

    def read(self):
        WORLD.use(self.conn, "read", ())
        return "data"

    def close(self):
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class SAResult:
    """A SQLAlchemy Result: read from while its connection is open."""

    def __init__(self, conn):
        self.conn = conn

    def _rows(self):
        if self.conn.closed:
            raise RuntimeError("a Result read after its connection closed")
        return [] if WORLD.empty else list(ROWS)

    def fetchone(self):
        rows = self._rows()
        return rows[0] if rows else None

    first = fetchone

    def fetchall(self):
        return self._rows()

    all = fetchall

    def scalar(self):
        rows = self._rows()
        return rows[0][0] if rows else None


class SAConnection(FakeConnection):
    """A SQLAlchemy Connection or Session: `with` closes it (and begins nothing)."""

    def execute(self, statement, params=None):
        WORLD.use(self, "execute", (statement, tuple(sorted((params or {}).items()))))
        return SAResult(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class FakeEngine:
    def connect(self):
        return SAConnection()


class AsyncSession(SAConnection):
    def __init__(self, *args, **kwargs):
        super().__init__()

    async def execute(self, statement, params=None):
        return SAConnection.execute(self, statement, params)

    async def close(self):
        SAConnection.close(self)

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()
        return False


class AsyncConnection(FakeConnection):
    """asyncpg's and aiosqlite's connections: awaited calls."""

    async def fetchrow(self, sql, *args):
        WORLD.use(self, "fetchrow", (sql, args))
        return None if WORLD.empty else ROWS[0]

    async def fetchval(self, sql, *args):
        WORLD.use(self, "fetchval", (sql, args))
        return None if WORLD.empty else len(ROWS)

    async def execute(self, sql, params=()):
        WORLD.use(self, "execute", (sql, tuple(params)))
        return AsyncCursor(self)

    async def close(self):
        FakeConnection.close(self)


class AsyncCursor(FakeCursor):
    async def fetchone(self):
        return FakeCursor.fetchone(self)

    async def fetchall(self):
        return FakeCursor.fetchall(self)


class Opening:
    """What aiosqlite.connect() and an asyncpg pool's acquire() return: awaitable, or an async
    context manager that gives the connection back on exit."""

    def __init__(self, release):
        self.release = release
        self.conn = None

    def __await__(self):
        async def opened():
            return AsyncConnection()
        return opened().__await__()

    async def __aenter__(self):
        self.conn = AsyncConnection()
        return self.conn

    async def __aexit__(self, *exc):
        await self.release(self.conn)
        return False


class FakePool:
    def acquire(self):
        return Opening(self.release)

    async def release(self, conn):
        # Back to the pool: for this test, no longer held.
        FakeConnection.close(conn)


class PsycopgAsync(AsyncConnection):
    """psycopg 3's AsyncConnection: its async with commits (or rolls back) and closes."""

    def __init__(self, *args, autocommit=False, **kwargs):
        super().__init__()
        self.autocommit = autocommit

    @classmethod
    async def connect(cls, *args, **kwargs):
        return cls(*args, **kwargs)

    async def __aenter__(self):
        return self

    async def __aexit__(self, kind, value, tb):
        if not self.autocommit:
            WORLD.use(self, "commit" if kind is None else "rollback", ())
        await self.close()
        return False


async def asyncpg_connect(*args, **kwargs):
    return AsyncConnection()


def get_db_connection(*args):
    return FakeConnection()


@contextlib.contextmanager
def connection_ctx(*args):
    conn = get_db_connection(*args)
    try:
        yield conn
    finally:
        conn.close()


def install_fakes():
    def module(name, **attrs):
        m = types.ModuleType(name)
        m.__dict__.update(attrs)
        sys.modules[name] = m
        return m

    engine = FakeEngine()
    module("db", get_db_connection=get_db_connection, connection_ctx=connection_ctx)
    module("appdb", engine=engine, pool=FakePool(), SessionLocal=lambda: SAConnection())
    module("sqlite3", connect=FakeConnection)
    module("psycopg", connect=ClosingConnection, AsyncConnection=PsycopgAsync)
    orm = module("sqlalchemy.orm", Session=lambda engine: SAConnection(), sessionmaker=lambda **k: SAConnection)
    ext = module("sqlalchemy.ext")
    asyncio_ext = module("sqlalchemy.ext.asyncio", AsyncSession=AsyncSession)
    ext.asyncio = asyncio_ext
    module("sqlalchemy", text=lambda sql: sql, create_engine=lambda *a, **k: engine, orm=orm, ext=ext)
    module("asyncpg", connect=asyncpg_connect)
    module("aiosqlite", connect=lambda *a, **k: Opening(AsyncConnection.close))
    pool = module("psycopg2.pool", ThreadedConnectionPool=object)
    module("psycopg2", pool=pool)

    class Abort(Exception):
        pass

    def abort(code):
        raise Abort(code)

    class Blueprint:
        def __init__(self, *args, **kwargs):
            pass

        def __getattr__(self, name):
            def decorator_factory(*args, **kwargs):
                if args and callable(args[0]) and not kwargs:
                    return args[0]
                return lambda f: f

            return decorator_factory

    class Request:
        host = "acme.example"
        args = {"limit": "5", "email": "a@example.com"}

        def get_json(self):
            return {"ids": [1, -1, 2], "email": "a@example.com", "name": "Ann", "primary_color": "#fff"}

    module("flask", Blueprint=Blueprint, Flask=object, Response=lambda *a, **k: ("response", a, k),
           jsonify=lambda *a, **k: ("json", a, tuple(sorted(k.items()))), request=Request(), g=types.SimpleNamespace(),
           abort=abort, session={"role": "superadmin", "user_id": 1}, send_file=lambda p: ("file", p),
           render_template=lambda name, **k: ("template", name, tuple(sorted((a, repr(b)) for a, b in k.items()))))


def argument_sets(fn):
    """Values for each parameter: ints that take each branch, lists, strings."""
    params = list(inspect.signature(fn).parameters.values())
    choices = []
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.name in ("ids",):
            choices.append([[1, -1, 2], []])
        elif p.name == "conn":
            choices.append([FakeConnection()])
        elif p.name in ("ids_unused",):
            choices.append([[1, -1, 2], []])
        elif p.name in ("path",):
            choices.append(["config.ini"])
        elif p.name in ("tenant",):
            choices.append(["acme"])
        else:
            choices.append([1, 2, 0, -1])
    return list(itertools.product(*choices))


def observe(fn, args, empty, fail_at):
    global WORLD
    WORLD = World(empty=empty, fail_at=fail_at)
    try:
        if inspect.iscoroutinefunction(fn):
            outcome = ("returned", repr(asyncio.run(fn(*args))))
        else:
            outcome = ("returned", repr(fn(*args)))
    except Exception as e:  # noqa: BLE001 - the exception is the observed behaviour
        outcome = ("raised", type(e).__name__, str(e))
    return outcome, WORLD.calls, dict(WORLD.open), WORLD.count


def functions_of(module):
    for name, fn in vars(module).items():
        if inspect.isfunction(fn) and fn.__module__ == module.__name__ and not name.startswith("_"):
            yield name, inspect.unwrap(fn)


def load(root, names):
    """Imports modules from `root` afresh; the app's pool factory is replaced by the fake before
    any route imports it."""
    for key in list(sys.modules):
        if key.split(".")[0] in {"src"} | {n.split(".")[0] for n in names}:
            del sys.modules[key]
    sys.path.insert(0, str(root))
    try:
        out = {}
        for n in names:
            out[n] = importlib.import_module(n)
            if n == "src.db_compat":
                out[n].get_db_connection = get_db_connection
        return out
    finally:
        sys.path.remove(str(root))


def source_of(fn):
    try:
        return inspect.getsource(fn)
    except OSError:
        return ""


def main():
    install_fakes()
    figures = {"functions": 0, "rewritten": 0, "scenarios": 0, "leaks_before": 0, "leaks_after": 0}
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        shutil.copytree(ROOT / "examples/sportsbook", tmp / "app_before")
        shutil.copytree(ROOT / "examples/sportsbook", tmp / "app_after")
        shutil.copytree(HERE / "cases", tmp / "cases_before")
        shutil.copytree(HERE / "cases", tmp / "cases_after")
        for d in ("app_after", "cases_after"):
            r = subprocess.run([LEAKFIX, "fix", "--write", "-q", "."], cwd=tmp / d, capture_output=True, text=True)
            if r.returncode not in (0, 1):
                print(r.stderr)
                return 1
        app_modules = ["src.db_compat"] + [f"src.routes.{p.stem}" for p in sorted((tmp / "app_before/src/routes").glob("*.py"))
                                          if p.stem != "__init__"]
        case_modules = [p.stem for p in sorted((tmp / "cases_before").glob("*.py"))]
        for before_root, after_root, names in ((tmp / "app_before", tmp / "app_after", app_modules),
                                               (tmp / "cases_before", tmp / "cases_after", case_modules)):
            before = load(before_root, names)
            before_fns = {(m, n): f for m, mod in before.items() for n, f in functions_of(mod)}
            after = load(after_root, names)
            after_fns = {(m, n): f for m, mod in after.items() for n, f in functions_of(mod)}
            for key, fb in sorted(before_fns.items()):
                if key[0] in ("src.db_compat", "db"):
                    continue
                fa = after_fns[key]
                rewritten = source_of(fa) != source_of(fb)
                figures["functions"] += 1
                figures["rewritten"] += rewritten
                for args in argument_sets(fb):
                    for empty in (False, True):
                        _, _, _, total = observe(fb, args, empty, None)
                        for fail_at in [None] + list(range(1, total + 1)):
                            ob = observe(fb, args, empty, fail_at)
                            oa = observe(fa, args, empty, fail_at)
                            figures["scenarios"] += 1
                            figures["leaks_before"] += len(ob[2])
                            figures["leaks_after"] += len(oa[2])
                            # Connections the rewritten with statements of this function opened.
                            own_after = sum(1 for fn, managed in oa[2].values() if fn == key[1] and managed)
                            where = f"{key[0]}.{key[1]}{args} empty={empty} fail_at={fail_at}"
                            if ob[0] != oa[0]:
                                failures.append(f"{where}: result {ob[0]} became {oa[0]}")
                            if ob[1] != oa[1]:
                                failures.append(f"{where}: calls {ob[1]} became {oa[1]}")
                            if rewritten and own_after:
                                failures.append(f"{where}: {own_after} connection(s) left open after the rewrite")
                            if len(oa[2]) > len(ob[2]):
                                failures.append(f"{where}: the rewrite leaks more")
    for f in failures[:40]:
        print("FAIL:", f)
    print("behaviour: {functions} functions ({rewritten} rewritten), {scenarios} scenarios; "
          "connections left open: {leaks_before} before, {leaks_after} after".format(**figures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
