"""Database access: a factory, and no context manager for it."""
import sqlite3

DB_PATH = "app.db"


def get_db_connection():
    conn = sqlite3.connect(DB_PATH)
    return conn


def table_names():
    return ["users"]
