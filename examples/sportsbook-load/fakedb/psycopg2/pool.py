"""psycopg2.pool's connection pools, in memory: getconn() lends an idle connection or makes one,
putconn() takes it back, checked_out() says how many are lent (what the incident's dashboard
showed creep up). Unlike psycopg2's, the pool has no maximum: a leak never makes getconn() fail."""
import threading


class PoolError(Exception):
    pass


class AbstractConnectionPool:
    def __init__(self, minconn, maxconn, *args, **kwargs):
        self.minconn, self.maxconn = minconn, maxconn
        self._kwargs = kwargs
        self._used = {}
        self._idle = []  # connections given back, lent again before a new one is made
        self._lock = threading.Lock()

    def getconn(self, key=None):
        from . import connect
        with self._lock:
            conn = self._idle.pop() if self._idle else connect(self._kwargs.get("dsn"))
            self._used[id(conn)] = conn
            return conn

    def putconn(self, conn, key=None, close=False):
        with self._lock:
            if self._used.pop(id(conn), None) is None:
                raise PoolError("trying to put unkeyed connection")
            if close or conn.closed:
                conn.close()
            else:
                self._idle.append(conn)

    def checked_out(self):
        with self._lock:
            return len(self._used)


class SimpleConnectionPool(AbstractConnectionPool):
    pass


class ThreadedConnectionPool(AbstractConnectionPool):
    pass
