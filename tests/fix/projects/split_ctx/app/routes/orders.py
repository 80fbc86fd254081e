from app.db.core import get_db_connection


def order(order_id):
    conn = get_db_connection()
    cur = conn.execute("SELECT id FROM orders WHERE id = ?", (order_id,))
    row = cur.fetchone()
    conn.close()
    return row
