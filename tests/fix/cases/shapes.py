"""Every rewrite shape, in a 4-space file."""
import logging

from db import get_db_connection

log = logging.getLogger(__name__)


def early_return(item_id):
    conn = get_db_connection()
    # Look the item up first.
    row = conn.execute(
        """
        SELECT name
          FROM items
         WHERE id = %s
        """,
        (item_id,),
    ).fetchone()
    if row is None:
        return None  # nothing to show
    conn.close()
    return row[0]


def several_returns(kind):
    conn = get_db_connection()
    if kind == 1:
        value = conn.execute("SELECT 1").fetchone()
        conn.close()
        return value
    elif kind == 2:
        conn.close()
        return "two"
    rows = conn.execute("SELECT 3").fetchall()
    conn.close()
    return rows


def try_finally(item_id):
    conn = get_db_connection()
    try:
        return conn.execute("SELECT * FROM items WHERE id = %s", (item_id,)).fetchone()
    finally:
        conn.close()


def handler_uses_handle(item_id):
    conn = get_db_connection()
    try:
        conn.execute("UPDATE items SET seen = true WHERE id = %s", (item_id,))
        conn.commit()
    except Exception:
        conn.rollback()
        raise
    finally:
        conn.close()
    return True


def finally_keeps_other_work(item_id):
    conn = get_db_connection()
    try:
        row = conn.execute("SELECT * FROM items WHERE id = %s", (item_id,)).fetchone()
    finally:
        log.info("lookup done")
        conn.close()
    return row


def collapse_none_guard(item_id):
    conn = None
    try:
        conn = get_db_connection()
        row = conn.execute("SELECT * FROM items WHERE id = %s", (item_id,)).fetchone()
        return row
    finally:
        if conn:
            conn.close()


def collapse_with_handler(item_id):
    conn = None
    try:
        conn = get_db_connection()
        return conn.execute("SELECT * FROM items WHERE id = %s", (item_id,)).fetchone()
    except KeyError:
        return None
    finally:
        if conn is not None:
            conn.close()


def sequential(item_id):
    conn = get_db_connection()
    first = conn.execute("SELECT 1").fetchone()
    conn.close()
    conn = get_db_connection()
    second = conn.execute("SELECT 2").fetchone()
    conn.close()
    return first, second


def last_use_then_more(item_id):
    conn = get_db_connection()
    rows = conn.execute("SELECT * FROM items").fetchall()
    conn.close()
    names = [r[0] for r in rows]
    log.info("%d names", len(names))
    return names


def commit_and_inner_with(item_id):
    conn = get_db_connection()
    with conn:
        conn.execute("UPDATE items SET n = n + 1 WHERE id = %s", (item_id,))
    conn.commit()
    conn.close()
    return item_id


def never_closed(item_id):
    conn = get_db_connection()
    return conn.execute("SELECT * FROM items WHERE id = %s", (item_id,)).fetchone()


def loop_continue(ids):
    done = []
    for item_id in ids:
        conn = get_db_connection()
        if item_id < 0:
            continue
        conn.execute("UPDATE items SET flag = true WHERE id = %s", (item_id,))
        conn.close()
        done.append(item_id)
    return done


def not_fixable_reassigned(item_id):
    conn = get_db_connection()
    if item_id:
        conn = conn.execute("SELECT 1")
    return conn


def not_fixable_used_after_close(item_id):
    conn = get_db_connection()
    row = conn.execute("SELECT 1").fetchone()
    if item_id > 0:
        conn.close()
    conn.execute("SELECT 2")
    conn.close()
    return row


def not_fixable_closure(item_id):
    conn = get_db_connection()

    def fetch():
        return conn.execute("SELECT 1").fetchone()

    row = fetch()
    conn.close()
    return row


def not_fixable_lazy_rows(item_id):
    conn = get_db_connection()
    return (row[0] for row in conn.execute("SELECT 1"))


def not_fixable_returns_cursor(item_id):
    conn = get_db_connection()
    return conn.execute("SELECT 1")


def factory():
    return get_db_connection()


def not_fixable_rebound_by_with(path):
    # `as conn` binds the name again while the first connection is open (a target as long as
    # the name: the reference search must still see it).
    conn = get_db_connection()
    conn.execute("SELECT 1")
    with open_replica() as conn:
        conn.execute("SELECT 2")
    conn.close()
