"""Theme settings: already converted to connection_ctx()."""
from flask import Blueprint, jsonify, request

from ..db_compat import connection_ctx

theme_bp = Blueprint("theme", __name__)


@theme_bp.get("/<tenant>")
def get_theme(tenant):
    with connection_ctx() as conn:
        row = conn.execute("SELECT css FROM themes WHERE tenant = %s", (tenant,)).fetchone()
    return jsonify(css=row[0] if row else "")


@theme_bp.put("/<tenant>")
def save_theme(tenant):
    with connection_ctx() as conn:
        conn.execute("UPDATE themes SET css = %s WHERE tenant = %s", (request.data.decode(), tenant))
        conn.commit()
    return "", 204
