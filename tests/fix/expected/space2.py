"""Two-space indentation."""
from db import connection_ctx


def early_return(item_id):
  with connection_ctx() as conn:
    row = conn.execute("SELECT 1").fetchone()
    if row is None:
      return None
  return row


def try_finally(item_id):
  with connection_ctx() as conn:
    return conn.execute("SELECT 2").fetchone()


def collapse_none_guard(item_id):
  with connection_ctx() as conn:
    return conn.execute("SELECT 3").fetchone()
