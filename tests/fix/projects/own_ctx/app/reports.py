from app.db import get_db_connection


def report(day):
    conn = get_db_connection()
    cur = conn.cursor()
    cur.execute("SELECT id, name FROM sales WHERE day = ?", (day,))
    rows = cur.fetchall()
    conn.close()
    if not rows:
        return None
    return len(rows)
