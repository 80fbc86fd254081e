"""Public leaderboard pages."""
from flask import Blueprint, render_template, request

from ..db_compat import get_db_connection

leaderboard_bp = Blueprint("leaderboard", __name__)


@leaderboard_bp.route("/")
def leaderboard():
    limit = int(request.args.get("limit", 50))
    conn = get_db_connection()  # expect: exception-unsafe
    rows = conn.execute("SELECT name, points FROM players ORDER BY points DESC LIMIT %s", (limit,)).fetchall()
    conn.close()
    return render_template("leaderboard.html", rows=rows)


@leaderboard_bp.route("/player/<int:player_id>")
def player(player_id):
    conn = get_db_connection()  # expect: manual-safe
    try:
        row = conn.execute("SELECT name, points FROM players WHERE id = %s", (player_id,)).fetchone()
        if row is None:
            return render_template("404.html"), 404
        return render_template("player.html", player=row)
    finally:
        conn.close()
