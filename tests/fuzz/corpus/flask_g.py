from flask import Flask, g
from db import get_db_connection
app = Flask(__name__)
@app.teardown_appcontext
def close(e):
    db = g.pop('db', None)
    if db is not None:
        db.close()
@app.route('/x')
def x():
    g.db = get_db_connection()
    c = get_db_connection()
    return str(c.execute('SELECT 1').fetchone())
