"""The project's context managers live apart from the factory."""
from app.db.core import get_db_connection


class Connection:
    """with Connection() as conn: ..."""

    def __enter__(self):
        self.conn = get_db_connection()
        return self.conn

    def __exit__(self, kind, value, tb):
        self.conn.close()
        return False
