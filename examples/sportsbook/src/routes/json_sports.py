"""JSON feeds of sports, events and odds."""
import json

from flask import Blueprint, Response, jsonify

from ..db_compat import get_db_connection

sports_bp = Blueprint("sports", __name__)


@sports_bp.get("/")
def list_sports():
    return jsonify([dict(r) for r in get_db_connection().execute("SELECT * FROM sports")])  # expect: never-closed


@sports_bp.get("/<int:sport_id>/events")
def events(sport_id):
    conn = get_db_connection()  # expect: never-closed
    rows = conn.execute("SELECT * FROM events WHERE sport_id = %s", (sport_id,)).fetchall()
    return jsonify(events=[dict(r) for r in rows])


@sports_bp.get("/odds/stream")
def odds_stream():
    conn = get_db_connection()  # expect: escapes

    def generate():
        for row in conn.execute("SELECT * FROM odds ORDER BY updated_at"):
            yield json.dumps(dict(row)) + "\n"
        conn.close()

    return Response(generate(), mimetype="application/x-ndjson")
