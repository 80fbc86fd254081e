import sqlite3


def add(name):
    with sqlite3.connect("app.db") as conn:
        conn.execute("INSERT INTO t VALUES (?)", (name,))
    return name


def fetch(item_id):
    with sqlite3.connect("app.db") as conn:
        return conn.execute("SELECT id FROM t WHERE id = ?", (item_id,)).fetchone()
