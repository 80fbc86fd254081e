"""A byte-order mark."""
from db import get_db_connection


def early_return(item_id):
  conn = get_db_connection()
  row = conn.execute("SELECT 1").fetchone()
  if row is None:
    return None
  conn.close()
  return row


def try_finally(item_id):
  conn = get_db_connection()
  try:
    return conn.execute("SELECT 2").fetchone()
  finally:
    conn.close()


def collapse_none_guard(item_id):
  conn = None
  try:
    conn = get_db_connection()
    return conn.execute("SELECT 3").fetchone()
  finally:
    if conn:
      conn.close()
