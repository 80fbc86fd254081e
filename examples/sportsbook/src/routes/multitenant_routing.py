"""Resolves the tenant of each request from its host name."""
from flask import Blueprint, abort, g, request

from ..db_compat import get_db_connection

tenant_bp = Blueprint("tenant", __name__)


def open_tenant_db(tenant_id):
    conn = get_db_connection()  # expect: escapes
    conn.execute("SET search_path TO %s", ("tenant_%d" % tenant_id,))
    return conn


@tenant_bp.before_app_request
def resolve_tenant():
    conn = open_tenant_db(0)  # expect: leaky-path
    row = conn.execute("SELECT id FROM tenants WHERE host = %s", (request.host,)).fetchone()
    if row is None:
        abort(404)
    g.tenant_id = row[0]
    conn.close()


@tenant_bp.route("/t/<int:tenant_id>/home")
def tenant_home(tenant_id):
    conn = open_tenant_db(tenant_id)  # expect: manual-safe
    try:
        return {"featured": [dict(r) for r in conn.execute("SELECT * FROM featured")]}
    finally:
        conn.close()
