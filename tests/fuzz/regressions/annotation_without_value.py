# Found by the fuzz target: `cur: object` (an assignment with no right side) after a cursor
# made fix crash (a null node in the check that a derived value escapes).
from db import get_db_connection

def f(x):
    conn = get_db_connection()
    cur = conn.cursor()
    cur.execute("SELECT 1")
    rows = cur.fetchall()
    conn.close()
    cur: object
    return rows
