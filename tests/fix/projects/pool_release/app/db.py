from psycopg2 import pool

_pool = pool.ThreadedConnectionPool(1, 10, dsn="dbname=app")


def get_db_connection():
    return _pool.getconn()


def release_db_connection(conn):
    _pool.putconn(conn)
