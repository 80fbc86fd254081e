from app.db import get_db_connection


def get_user(user_id):
    # The cursor is used after the last use of `conn` itself.
    conn = get_db_connection()
    cur = conn.cursor()
    cur.execute("SELECT id, name FROM users WHERE id = ?", (user_id,))
    return {k: v for k, v in cur.fetchall()}


def list_users(limit):
    conn = get_db_connection()
    c = conn
    rows = c.execute("SELECT id, name FROM users LIMIT ?", (limit,)).fetchall()
    conn.close()
    return rows


def count(user_id):
    # sqlite3's execute() gives a live cursor.
    conn = get_db_connection()
    cur = conn.execute("SELECT id FROM users WHERE id = ?", (user_id,))
    if user_id < 0:
        return -1
    row = cur.fetchone()
    conn.close()
    if row is None:
        return 0
    return 1


def names(user_id):
    conn = get_db_connection()
    rows = conn.execute("SELECT id, name FROM users").fetchall()
    conn.close()
    return [r[1] for r in rows if user_id]


def closed_cursor(user_id):
    # Refused: the cursor is used after close(), on purpose.
    conn = get_db_connection()
    cur = conn.cursor()
    conn.close()
    try:
        cur.execute("SELECT id FROM users WHERE id = ?", (user_id,))
    except RuntimeError:
        return "closed"
    return "open"
