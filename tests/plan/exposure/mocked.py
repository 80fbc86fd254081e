"""A test module: `mock.patch` decorates like a route method, but names no URL rule."""
from unittest import mock

from db import get_db_connection


@mock.patch("db.get_db_connection")
def test_reads(fake):
    conn = get_db_connection()  # expect-route: - | internal
    return conn.execute("SELECT 1").fetchone()
