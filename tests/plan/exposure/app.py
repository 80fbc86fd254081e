from flask import Flask

from db import get_db_connection
from items import items_bp
from staff import staff_bp

app = Flask(__name__)
app.register_blueprint(items_bp, url_prefix="/api/items")
app.register_blueprint(staff_bp)


@app.route("/health")
def health():
    conn = get_db_connection()  # expect-route: GET /health | public
    return conn.execute("SELECT 1").fetchone()


@app.before_request
def count_visit():
    conn = get_db_connection()  # expect-route: every request | public
    conn.execute("UPDATE visits SET n = n + 1")
    conn.close()
