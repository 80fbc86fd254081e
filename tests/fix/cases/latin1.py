# -*- coding: latin-1 -*-
"""Latin-1: café."""
from db import get_db_connection


def early_return(item_id):
    conn = get_db_connection()  # résumé
    row = conn.execute("SELECT é").fetchone()
    if row is None:
        return None
    conn.close()
    return row
