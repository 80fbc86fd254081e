"""Driver roots and files: contextlib.closing(), or the handle's own with."""
import contextlib
import sqlite3

import psycopg


def sqlite_lookup(item_id):
    with contextlib.closing(sqlite3.connect("app.db")) as conn:
        row = conn.execute("SELECT * FROM items WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            return None
    return row


def psycopg_lookup(item_id):
    with contextlib.closing(psycopg.connect("dbname=app")) as conn:
        row = conn.execute("SELECT * FROM items WHERE id = %s", (item_id,)).fetchone()
    return row


def read_config(path):
    with open(path) as f:
        data = f.read()
    return data
