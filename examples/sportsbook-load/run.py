#!/usr/bin/env python3
"""Drives the example app's routes (examples/sportsbook) with Flask's test client, in memory (no server, no network,
no database: psycopg2 is the stand-in in fakedb/), a bounded number of rounds, with leakfix_runtime
counting leaks per line.

    python3 examples/sportsbook-load/run.py [--rounds N] [--out counts.jsonl] [--app DIR] [--runtime DIR]

Each round sends the requests below once; eight of them take a path that leaks a connection in
the app as shipped (an unknown tenant, a duplicate e-mail, a bulk update that skips an id, ...).
At the end it collects garbage, writes the runtime's counts to --out (JSON lines: `leakfix plan
--runtime` reads them), and prints one line per acquiring line: leaks, handles open, acquired.
Run it again after `leakfix fix --write` on the app: the same load leaks nothing and leaves no
connection checked out.
"""
import argparse
import gc
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# (method, path, JSON body, session role, Host header): one round.
REQUESTS = [
    ("GET", "/api/branding/acme", None, None, None),
    ("GET", "/api/branding/nobody", None, None, None),           # leaks: unknown tenant, early return
    ("GET", "/api/branding/acme/logo", None, None, None),
    ("GET", "/api/branding/nobody/logo", None, None, None),      # leaks: fetchone() is None, [0] raises
    ("GET", "/admin/users", None, "admin", None),
    ("POST", "/admin/users/bulk-disable", {"ids": [1, 2, 3]}, "admin", None),  # leaks: continue on id 1
    ("GET", "/api/sports/", None, None, None),                   # leaks: never closed
    ("GET", "/api/sports/1/events", None, None, None),           # leaks: never closed
    ("GET", "/api/sports/odds/stream", None, None, None),
    ("GET", "/t/1/home", None, None, None),
    ("GET", "/t/1/home", None, None, "unknown.example"),         # leaks: abort(404) in before_request
    ("GET", "/leaderboard/", None, None, None),
    ("GET", "/leaderboard/player/1", None, None, None),
    ("POST", "/register/", {"email": "taken@example.com", "name": "Ann"}, None, None),  # leaks: 409
    ("POST", "/register/", {"email": "new@example.com", "name": "Neo"}, None, None),
    ("GET", "/register/check?email=x@example.com", None, None, None),
    ("GET", "/superadmin/tenants", None, "superadmin", None),
    ("GET", "/superadmin/stats", None, "superadmin", None),      # leaks: never closed
    ("GET", "/theme/acme", None, None, None),
    ("PUT", "/theme/acme", None, None, None),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out", help="append leakfix_runtime's counts here (JSON lines)")
    ap.add_argument("--prometheus", help="write the counts here in Prometheus' text format, as a scrape would see them")
    ap.add_argument("--app", default=os.path.join(os.path.dirname(HERE), "sportsbook"), help="the app's folder (holding src/)")
    ap.add_argument("--runtime", default=os.path.join(os.path.dirname(os.path.dirname(HERE)), "runtime"),
                    help="the folder holding leakfix_runtime.py")
    ap.add_argument("--rules", help="`leakfix runtime rules` output (default: the runtime's own)")
    ap.add_argument("--no-runtime", action="store_true", help="run without leakfix_runtime")
    ap.add_argument("--release-leaked", action="store_true", help="let the runtime give leaked connections back to the pool")
    args = ap.parse_args()
    app_dir = os.path.abspath(args.app)
    sys.path[:0] = [os.path.join(HERE, "fakedb"), app_dir, args.runtime]
    runtime = None
    if not args.no_runtime:
        import leakfix_runtime as runtime
        # Before the app is imported: its modules are wrapped as they load.
        runtime.install(rules=args.rules, root=app_dir, release_leaked=args.release_leaked)
    from src.app import create_app
    from src import db_compat

    app = create_app()
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.logger.disabled = True
    client = app.test_client()
    statuses = {}
    for _ in range(args.rounds):
        for method, path, body, role, host in REQUESTS:
            with client.session_transaction() as session:
                session.clear()
                if role:
                    session["role"] = role
            headers = {"Host": host} if host else {}
            response = client.open(path, method=method, json=body, headers=headers)
            response.get_data()  # a streamed body runs to its end
            response.close()
            statuses[(method, path, host)] = response.status_code
    gc.collect()
    pool = db_compat._pool
    checked_out = pool.checked_out() if pool is not None else 0
    if runtime is not None:
        if args.out:
            runtime.write_snapshot(args.out)
        if args.prometheus:
            with open(args.prometheus, "w") as f:
                f.write(runtime.prometheus())
        sites = runtime.counts()
        for key in sorted(sites, key=lambda k: (sites[k]["file"], sites[k]["line"])):
            s = sites[key]
            where = os.path.relpath(s["file"], app_dir)
            print(f"{where}:{s['line']} {s['function']} leaked={s['leaked']} open={s['open']} acquired={s['acquired']}")
    print(f"checked out after the load: {checked_out}")
    print("statuses: " + json.dumps({f"{m} {p}{' @' + h if h else ''}": c for (m, p, h), c in sorted(statuses.items(), key=str)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
