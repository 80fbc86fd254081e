from db import get_db_connection
def f(x):
    conn = get_db_connection()
    cur = conn.cursor()
    cur.execute('SELECT 1')
    rows = cur.fetchall()
    conn.close()
    return rows
