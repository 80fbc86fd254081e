from db import get_db_connection
def broken(:
    pass
def f(x):
    conn = get_db_connection()
    if x:
        return 1
    conn.close()
