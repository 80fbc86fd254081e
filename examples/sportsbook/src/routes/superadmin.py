"""Platform-wide administration."""
from flask import Blueprint, jsonify

from ..auth import superadmin_required
from ..db_compat import get_db_connection

superadmin_bp = Blueprint("superadmin", __name__)


@superadmin_bp.route("/tenants")
@superadmin_required
def tenants():
    conn = get_db_connection()  # expect: manual-safe
    try:
        return jsonify(tenants=[dict(t) for t in conn.execute("SELECT * FROM tenants")])
    finally:
        conn.close()


@superadmin_bp.route("/stats")
@superadmin_required
def stats():
    conn = get_db_connection()  # expect: never-closed
    return jsonify(players=conn.execute("SELECT count(*) FROM players").fetchone()[0])
