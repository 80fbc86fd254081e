"""Driver roots and files: contextlib.closing(), or the handle's own with."""
import sqlite3

import psycopg


def sqlite_lookup(item_id):
    conn = sqlite3.connect("app.db")
    row = conn.execute("SELECT * FROM items WHERE id = ?", (item_id,)).fetchone()
    if row is None:
        return None
    conn.close()
    return row


def psycopg_lookup(item_id):
    conn = psycopg.connect("dbname=app")
    row = conn.execute("SELECT * FROM items WHERE id = %s", (item_id,)).fetchone()
    conn.close()
    return row


def read_config(path):
    f = open(path)
    data = f.read()
    f.close()
    return data
