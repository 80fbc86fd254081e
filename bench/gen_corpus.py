#!/usr/bin/env python3
"""Generates a corpus of Flask route files for bench/run.sh.

    gen_corpus.py OUT_DIR --files N --with-acquisitions FRACTION [--route-share S] [--seed S]

Files "with acquisitions" hold routes in the shapes leakfix reports (early returns, missing
finally, loops, try/finally, connection_ctx); with --route-share below 1 the rest of such a
file is helper code, as in a real route module. The other files are helper code only, of the
same size, and never name an acquirer.
"""
import argparse
import os
import random

ROUTE_SHAPES = [
    '''
@bp.route("/{name}/<int:item_id>")
def {name}(item_id):
    conn = get_db_connection()
    row = conn.execute("SELECT * FROM {table} WHERE id = %s", (item_id,)).fetchone()
    if row is None:
        return jsonify(error="not found"), 404
    conn.close()
    return jsonify(dict(row))
''',
    '''
@bp.route("/{name}")
def {name}():
    conn = get_db_connection()
    try:
        rows = conn.execute("SELECT * FROM {table} ORDER BY id LIMIT 100").fetchall()
        return jsonify([dict(r) for r in rows])
    finally:
        conn.close()
''',
    '''
@bp.post("/{name}")
def {name}():
    data = request.get_json()
    conn = get_db_connection()
    conn.execute("INSERT INTO {table} (value) VALUES (%s)", (data["value"],))
    conn.commit()
    conn.close()
    return "", 201
''',
    '''
@bp.route("/{name}/bulk", methods=["POST"])
def {name}():
    done = []
    for item_id in request.get_json()["ids"]:
        conn = get_db_connection()
        if item_id < 0:
            continue
        conn.execute("UPDATE {table} SET flag = true WHERE id = %s", (item_id,))
        conn.close()
        done.append(item_id)
    return jsonify(done=done)
''',
    '''
@bp.get("/{name}/count")
def {name}():
    with connection_ctx() as conn:
        n = conn.execute("SELECT count(*) FROM {table}").fetchone()[0]
    return jsonify(count=n)
''',
]

HELPER_SHAPES = [
    '''
def {name}(values, scale=1.0):
    """Normalises a list of numbers."""
    total = sum(values) or 1
    out = []
    for v in values:
        if v is None:
            continue
        out.append(round(v * scale / total, 4))
    return out
''',
    '''
class {cname}:
    def __init__(self, items):
        self.items = list(items)

    def top(self, n=10):
        return sorted(self.items, key=lambda x: x[1], reverse=True)[:n]

    def by_key(self):
        result = {{}}
        for k, v in self.items:
            result.setdefault(k, []).append(v)
        return result
''',
    '''
def {name}(text):
    parts = [p.strip() for p in text.split(",") if p.strip()]
    try:
        return {{p: int(p) for p in parts}}
    except ValueError:
        return {{}}
''',
]

HEADER_ROUTES = '''"""Generated route module {index}."""
from flask import Blueprint, jsonify, request

from ..db_compat import connection_ctx, get_db_connection

bp = Blueprint("routes_{index}", __name__)
'''

HEADER_HELPERS = '''"""Generated helper module {index}."""
import math
'''


def write_file(path, index, with_acquisitions, route_share, rng):
    parts = [(HEADER_ROUTES if with_acquisitions else HEADER_HELPERS).format(index=index)]
    for k in range(rng.randint(10, 16)):
        route = with_acquisitions and (k == 0 or rng.random() < route_share)
        shape = rng.choice(ROUTE_SHAPES if route else HELPER_SHAPES)
        parts.append(shape.format(name=f"f{index}_{k}", cname=f"C{index}_{k}", table=f"t{k}"))
    with open(path, "w") as f:
        f.write("\n".join(parts))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--with-acquisitions", type=float, default=1.0)
    ap.add_argument("--route-share", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    for i in range(args.files):
        sub = os.path.join(args.out, f"pkg{i // 100}")
        os.makedirs(sub, exist_ok=True)
        write_file(os.path.join(sub, f"mod{i}.py"), i, rng.random() < args.with_acquisitions, args.route_share, rng)


if __name__ == "__main__":
    main()
