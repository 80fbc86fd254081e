"""Database access shared by every blueprint: a small pool and two ways to borrow from it."""
import threading
from contextlib import contextmanager

import psycopg2.pool

_pool = None
_pool_lock = threading.Lock()


def _get_pool():
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = psycopg2.pool.ThreadedConnectionPool(1, 20, dsn="dbname=sportsbook")
        return _pool


class PooledConnection:
    """A pool connection whose close() gives it back to the pool."""

    def __init__(self, pool, raw):
        self._pool = pool
        self._raw = raw
        self.closed = False

    def execute(self, sql, params=()):
        cur = self._raw.cursor()
        cur.execute(sql, params)
        return cur

    def commit(self):
        self._raw.commit()

    def rollback(self):
        self._raw.rollback()

    def close(self):
        if not self.closed:
            self.closed = True
            self._pool.putconn(self._raw)


def get_db_connection():
    """Borrow a connection; the caller must close() it."""
    pool = _get_pool()
    return PooledConnection(pool, pool.getconn())


@contextmanager
def connection_ctx():
    """Borrow a connection for the duration of a with block."""
    conn = get_db_connection()
    try:
        yield conn
    finally:
        conn.close()
