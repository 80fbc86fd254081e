"""Tenant administration."""
from flask import Blueprint, jsonify, request

from ..auth import admin_required
from ..db_compat import get_db_connection

admin_bp = Blueprint("admin", __name__)


@admin_bp.route("/users")
@admin_required
def list_users():
    conn = get_db_connection()  # expect: exception-unsafe
    users = conn.execute("SELECT id, email, role FROM players").fetchall()
    conn.close()
    return jsonify(users=[dict(u) for u in users])


@admin_bp.route("/users/bulk-disable", methods=["POST"])
@admin_required
def bulk_disable():
    disabled = []
    for user_id in request.get_json()["ids"]:
        conn = get_db_connection()  # expect: leaky-path
        if user_id == 1:
            continue
        conn.execute("UPDATE players SET disabled = true WHERE id = %s", (user_id,))
        conn.commit()
        conn.close()
        disabled.append(user_id)
    return jsonify(disabled=disabled)
