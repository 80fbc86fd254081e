from flask_mysqldb import MySQLdb

from app.db import get_db_connection


def managed(item_id):
    with get_db_connection() as conn:  # expect: nothing, mysql.connector's with closes
        cur = conn.cursor()
        cur.execute("SELECT id FROM items WHERE id = %s", (item_id,))
        return cur.fetchall()


def legacy(item_id):
    conn = MySQLdb.connect(host="db")
    cur = conn.cursor()
    cur.execute("SELECT id FROM items WHERE id = %s", (item_id,))
    rows = cur.fetchall()
    conn.close()
    return rows
