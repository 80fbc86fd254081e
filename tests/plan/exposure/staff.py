from flask import Blueprint

from auth import admin_required
from db import get_db_connection

staff_bp = Blueprint("staff", __name__, url_prefix="/admin/staff")


def audit(event):
    conn = get_db_connection()  # expect-route: GET /admin/staff/ | admin
    conn.execute("INSERT INTO audit VALUES (%s)", (event,))


@staff_bp.route("/")
def roster():
    audit("roster")
    conn = get_db_connection()  # expect-route: GET /admin/staff/ | admin
    return conn.execute("SELECT * FROM staff").fetchall()


@staff_bp.put("/<name>")
@admin_required
def rename(name):
    conn = get_db_connection()  # expect-route: PUT /admin/staff/<name> | admin
    conn.execute("UPDATE staff SET name = %s", (name,))
    conn.close()


@staff_bp.before_request
def check_session():
    conn = get_db_connection()  # expect-route: every request under /admin/staff | admin
    conn.execute("SELECT 1")
    conn.close()
