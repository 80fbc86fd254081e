import sqlite3
def f(p):
    with sqlite3.connect(p) as conn:
        conn.execute('CREATE TABLE t (x)')
    return conn
