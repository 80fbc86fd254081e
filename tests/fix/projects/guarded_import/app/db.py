import sqlite3


def get_db_connection():
    return sqlite3.connect("app.db")


def release_db_connection(conn):
    conn.rollback()
    conn.close()
