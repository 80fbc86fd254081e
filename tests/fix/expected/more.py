"""Several handles, methods, module level, async code and release helpers."""
import contextlib
import sqlite3

from db import connection_ctx, get_db_connection

with contextlib.closing(sqlite3.connect("settings.db")) as SETTINGS:
    THEME = SETTINGS.execute("SELECT theme FROM settings").fetchone()


def give_back(conn):
    conn.close()


def two_handles(item_id):
    with connection_ctx() as a:
        b = get_db_connection()
        x = a.execute("SELECT 1").fetchone()
        y = b.execute("SELECT 2").fetchone()
    b.close()
    return x, y


def nested_handles(item_id):
    with connection_ctx() as outer:
        with contextlib.closing(sqlite3.connect("cache.db")) as inner:
            value = inner.execute("SELECT 1").fetchone()
        outer.execute("INSERT INTO log VALUES (%s)", (value,))
    return value


def released_by_helper(item_id):
    with connection_ctx() as conn:
        row = conn.execute("SELECT 1").fetchone()
    return row


def guarded_close(item_id):
    with connection_ctx() as conn:
        row = conn.execute("SELECT 1").fetchone()
    return row


def closing_already_imported(item_id):
    with contextlib.closing(sqlite3.connect("app.db")) as conn:
        row = conn.execute("SELECT 1").fetchone()
    return row


class Repository:
    def load(self, item_id):
        with connection_ctx() as conn:
            return conn.execute("SELECT 1").fetchone()


async def async_lookup(item_id):
    with connection_ctx() as conn:
        row = conn.execute("SELECT 1").fetchone()
        if row is None:
            return None
    return row


def release_in_branches(flag):
    with connection_ctx() as conn:
        if flag > 0:
            conn.execute("UPDATE t SET a = 1")
        else:
            pass
    return flag
