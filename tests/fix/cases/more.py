"""Several handles, methods, module level, async code and release helpers."""
import contextlib
import sqlite3

from db import get_db_connection

SETTINGS = sqlite3.connect("settings.db")
THEME = SETTINGS.execute("SELECT theme FROM settings").fetchone()
SETTINGS.close()


def give_back(conn):
    conn.close()


def two_handles(item_id):
    a = get_db_connection()
    b = get_db_connection()
    x = a.execute("SELECT 1").fetchone()
    y = b.execute("SELECT 2").fetchone()
    a.close()
    b.close()
    return x, y


def nested_handles(item_id):
    outer = get_db_connection()
    inner = sqlite3.connect("cache.db")
    value = inner.execute("SELECT 1").fetchone()
    inner.close()
    outer.execute("INSERT INTO log VALUES (%s)", (value,))
    outer.close()
    return value


def released_by_helper(item_id):
    conn = get_db_connection()
    row = conn.execute("SELECT 1").fetchone()
    give_back(conn)
    return row


def guarded_close(item_id):
    conn = get_db_connection()
    try:
        row = conn.execute("SELECT 1").fetchone()
    finally:
        if conn is not None:
            conn.close()
    return row


def closing_already_imported(item_id):
    conn = sqlite3.connect("app.db")
    row = conn.execute("SELECT 1").fetchone()
    conn.close()
    return row


class Repository:
    def load(self, item_id):
        conn = get_db_connection()
        try:
            return conn.execute("SELECT 1").fetchone()
        finally:
            conn.close()


async def async_lookup(item_id):
    conn = get_db_connection()
    row = conn.execute("SELECT 1").fetchone()
    if row is None:
        return None
    conn.close()
    return row


def release_in_branches(flag):
    conn = get_db_connection()
    if flag > 0:
        conn.execute("UPDATE t SET a = 1")
        conn.close()
    else:
        conn.close()
    return flag
