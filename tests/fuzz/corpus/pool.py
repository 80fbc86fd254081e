from psycopg2 import pool
P = pool.SimpleConnectionPool(1, 5)
def release_db_connection(conn):
    P.putconn(conn)
def f(x):
    conn = P.getconn()
    try:
        cur = conn.cursor()
        cur.execute('SELECT %s', (x,))
        return cur.fetchone()
    finally:
        release_db_connection(conn)
