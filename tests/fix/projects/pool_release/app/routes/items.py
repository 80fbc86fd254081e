from app.db import get_db_connection, release_db_connection


def get_item(item_id):
    conn = get_db_connection()
    try:
        cur = conn.cursor()
        cur.execute("SELECT id FROM items WHERE id = %s", (item_id,))
        row = cur.fetchone()
        if row is None:
            return None
        return row
    finally:
        release_db_connection(conn)


def list_items(limit):
    conn = get_db_connection()
    cur = conn.cursor()
    cur.execute("SELECT id FROM items LIMIT %s", (limit,))
    rows = cur.fetchall()
    release_db_connection(conn)
    return rows


def early(item_id):
    conn = get_db_connection()
    cur = conn.cursor()
    cur.execute("SELECT id FROM items WHERE id = %s", (item_id,))
    row = cur.fetchone()
    if row is None:
        return None
    release_db_connection(conn)
    return row
