from flask import Blueprint

from auth import login_required
from db import get_db_connection

# The registration's url_prefix wins over this one.
items_bp = Blueprint("items", __name__, url_prefix="/ignored")


def load_item(item_id):
    conn = get_db_connection()  # expect-route: GET /api/items/<int:item_id> | public
    return conn.execute("SELECT * FROM items WHERE id = %s", (item_id,)).fetchone()


def price_of(item_id):
    return lookup_price(item_id)


def lookup_price(item_id):
    conn = get_db_connection()  # expect-route: GET,POST /api/items/ | public
    return conn.execute("SELECT price FROM items WHERE id = %s", (item_id,)).fetchone()


@items_bp.get("/<int:item_id>")
def show(item_id):
    return load_item(item_id)


@items_bp.route("/", methods=["GET", "POST"])
def listing():
    return price_of(1)


@items_bp.delete("/<int:item_id>")
@login_required
def remove(item_id):
    conn = get_db_connection()  # expect-route: DELETE /api/items/<int:item_id> | authenticated
    conn.execute("DELETE FROM items WHERE id = %s", (item_id,))
    conn.close()


class Repository:
    def load(self):
        conn = get_db_connection()  # expect-route: - | internal
        return conn.execute("SELECT 1").fetchone()
