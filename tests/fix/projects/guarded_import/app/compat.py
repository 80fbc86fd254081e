try:
    from app.db import get_db_connection, release_db_connection
except ImportError:  # pragma: no cover
    get_db_connection = release_db_connection = None


def lookup(item_id):
    conn = get_db_connection()
    row = conn.execute("SELECT id FROM items WHERE id = ?", (item_id,)).fetchone()
    if row is None:
        return None
    release_db_connection(conn)
    return row
