import contextlib
import sqlite3


def get_db_connection():
    return sqlite3.connect("app.db")


@contextlib.contextmanager
def transaction():
    conn = get_db_connection()
    try:
        yield conn
        conn.commit()
    finally:
        conn.close()


@contextlib.contextmanager
def db_session():
    """The project's own way to hold a connection."""
    conn = get_db_connection()
    try:
        yield conn
    finally:
        conn.close()
