"""The cases' database module: the factory they import and its context manager."""
import contextlib
import sqlite3


def get_db_connection(*args):
    return sqlite3.connect(":memory:")


@contextlib.contextmanager
def connection_ctx(*args):
    conn = get_db_connection(*args)
    try:
        yield conn
    finally:
        conn.close()
