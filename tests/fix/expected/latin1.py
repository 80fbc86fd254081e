# -*- coding: latin-1 -*-
"""Latin-1: café."""
from db import connection_ctx


def early_return(item_id):
    with connection_ctx() as conn:  # résumé
        row = conn.execute("SELECT é").fetchone()
        if row is None:
            return None
    return row
