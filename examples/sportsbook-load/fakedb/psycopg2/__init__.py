"""A stand-in for psycopg2 that the load script puts first on sys.path: an in-memory database
with the tables the example app reads, so that its routes run without a PostgreSQL server."""
from . import pool  # noqa: F401


class Row(dict):
    """A row read by name (dict(row)) or by position (row[0]), as psycopg2's DictRow is."""

    def __getitem__(self, key):
        if isinstance(key, int):
            return list(self.values())[key]
        return super().__getitem__(key)


TABLES = {
    "branding": {"acme": Row(primary_color="#c00", logo_url="/logo.png", logo_path="/nonexistent/acme-logo.png")},
    "players": [Row(id=1, email="taken@example.com", role="player", name="Ann", points=30),
                Row(id=2, email="bob@example.com", role="player", name="Bob", points=20)],
    "sports": [Row(id=1, name="football"), Row(id=2, name="tennis")],
    "events": [Row(id=7, sport_id=1, name="final")],
    "odds": [Row(id=1, price=2.5), Row(id=2, price=1.8)],
    "tenants": {"localhost": Row(id=1, host="localhost")},
    "featured": [Row(id=1, title="derby")],
    "themes": {"acme": Row(css="body { color: red }")},
}


def answer(sql, params):
    """The rows a statement of the example app gives."""
    s = " ".join(sql.split())
    p = tuple(params or ())
    if s.startswith("SELECT primary_color, logo_url FROM branding"):
        b = TABLES["branding"].get(p[0])
        return [Row(primary_color=b["primary_color"], logo_url=b["logo_url"])] if b else []
    if s.startswith("SELECT logo_path FROM branding"):
        b = TABLES["branding"].get(p[0])
        return [Row(logo_path=b["logo_path"])] if b else []
    if s.startswith("SELECT id, email, role FROM players"):
        return [Row(id=r["id"], email=r["email"], role=r["role"]) for r in TABLES["players"]]
    if s.startswith("SELECT name, points FROM players WHERE id"):
        return [Row(name=r["name"], points=r["points"]) for r in TABLES["players"] if r["id"] == p[0]]
    if s.startswith("SELECT name, points FROM players"):
        return [Row(name=r["name"], points=r["points"]) for r in TABLES["players"]]
    if s.startswith("SELECT 1 FROM players WHERE email"):
        return [Row(one=1) for r in TABLES["players"] if r["email"] == p[0]]
    if s.startswith("SELECT count(*) FROM players"):
        return [Row(count=len(TABLES["players"]))]
    if s.startswith("SELECT * FROM sports"):
        return list(TABLES["sports"])
    if s.startswith("SELECT * FROM events"):
        return [r for r in TABLES["events"] if r["sport_id"] == p[0]]
    if s.startswith("SELECT * FROM odds"):
        return list(TABLES["odds"])
    if s.startswith("SELECT id FROM tenants WHERE host"):
        t = TABLES["tenants"].get(p[0])
        return [Row(id=t["id"])] if t else []
    if s.startswith("SELECT * FROM tenants"):
        return list(TABLES["tenants"].values())
    if s.startswith("SELECT * FROM featured"):
        return list(TABLES["featured"])
    if s.startswith("SELECT css FROM themes"):
        t = TABLES["themes"].get(p[0])
        return [Row(css=t["css"])] if t else []
    return []  # UPDATE, INSERT, SET: nothing to read


class Cursor:
    def __init__(self, connection):
        self.connection = connection
        self.rows = []

    def execute(self, sql, params=None):
        if self.connection.closed:
            raise InterfaceError("connection already closed")
        self.rows = answer(sql, params)

    def fetchone(self):
        return self.rows.pop(0) if self.rows else None

    def fetchall(self):
        rows, self.rows = self.rows, []
        return rows

    def __iter__(self):
        while self.rows:
            yield self.rows.pop(0)


class InterfaceError(Exception):
    pass


class connection:  # noqa: N801 (psycopg2's name)
    def __init__(self, dsn=None):
        self.dsn = dsn
        self.closed = 0

    def cursor(self):
        return Cursor(self)

    def commit(self):
        pass

    def rollback(self):
        pass

    def close(self):
        self.closed = 1


def connect(dsn=None, **kwargs):
    return connection(dsn)
