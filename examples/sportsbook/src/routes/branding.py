"""Tenant branding: logos and colours. The most called route of the platform."""
from flask import Blueprint, jsonify, send_file

from ..db_compat import get_db_connection

branding_bp = Blueprint("branding", __name__)


@branding_bp.route("/<tenant>")
def get_branding(tenant):
    conn = get_db_connection()  # expect: leaky-path
    row = conn.execute("SELECT primary_color, logo_url FROM branding WHERE tenant = %s", (tenant,)).fetchone()
    if row is None:
        return jsonify(error="unknown tenant"), 404
    conn.close()
    return jsonify(primary_color=row[0], logo_url=row[1])


@branding_bp.route("/<tenant>/logo")
def get_logo(tenant):
    conn = get_db_connection()  # expect: exception-unsafe
    path = conn.execute("SELECT logo_path FROM branding WHERE tenant = %s", (tenant,)).fetchone()[0]
    conn.close()
    return send_file(path)
