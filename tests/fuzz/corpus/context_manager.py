from contextlib import contextmanager
from db import get_db_connection
@contextmanager
def db_ctx():
    conn = get_db_connection()
    try:
        yield conn
    finally:
        conn.close()
def f(x):
    conn = get_db_connection()
    for r in conn.execute('SELECT 1'):
        if r:
            return r
    conn.close()
