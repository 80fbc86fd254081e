# -*- coding: latin-1 -*-
import sqlite3
def f(p):
    conn = sqlite3.connect(p)  # café
    if p:
        return None
    conn.close()
