"""Self-service registration of new players."""
from flask import Blueprint, jsonify, request

from ..db_compat import get_db_connection

registration_bp = Blueprint("registration", __name__)


@registration_bp.post("/")
def register():
    data = request.get_json()
    conn = get_db_connection()  # expect: leaky-path
    if conn.execute("SELECT 1 FROM players WHERE email = %s", (data["email"],)).fetchone():
        return jsonify(error="already registered"), 409
    try:
        conn.execute("INSERT INTO players (email, name) VALUES (%s, %s)", (data["email"], data["name"]))
        conn.commit()
    except Exception:
        conn.rollback()
        conn.close()
        raise
    conn.close()
    return jsonify(ok=True), 201


@registration_bp.get("/check")
def check_email():
    conn = None
    try:
        conn = get_db_connection()  # expect: manual-safe
        taken = conn.execute("SELECT 1 FROM players WHERE email = %s", (request.args["email"],)).fetchone()
        return jsonify(available=taken is None)
    finally:
        if conn is not None:
            conn.close()
