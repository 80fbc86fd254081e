#!/usr/bin/env python3
"""Writes the sample access log of the example app (tests/plan/access.log): a day of requests in
the combined format, with gunicorn's default lines mixed in and a few broken lines. Deterministic."""
import pathlib
import random
import sys

OUT = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent / "access.log"
rng = random.Random(1234)

# (method, path template, weight): branding is the most called, admin the least.
ROUTES = [
    ("GET", "/api/branding/{tenant}", 400),
    ("GET", "/api/branding/{tenant}/logo", 250),
    ("GET", "/leaderboard/", 120),
    ("GET", "/leaderboard", 20),
    ("GET", "/leaderboard/player/{n}", 90),
    ("GET", "/api/sports/", 60),
    ("GET", "/api/sports/{n}/events", 150),
    ("GET", "/api/sports/odds/stream", 10),
    ("POST", "/register/", 25),
    ("GET", "/register/check?email=a%40b.example", 40),
    ("GET", "/t/{n}/home", 70),
    ("GET", "/theme/{tenant}", 30),
    ("PUT", "/theme/{tenant}", 3),
    ("GET", "/admin/users", 6),
    ("POST", "/admin/users/bulk-disable", 2),
    ("GET", "/superadmin/tenants", 2),
    ("GET", "/superadmin/stats", 4),
    ("GET", "/static/app.css", 80),
    ("GET", "/api/sports/abc/events", 3),  # not an int: no route matches
]
TENANTS = ["acme", "globex", "initech", "umbrella"]
AGENTS = ['"Mozilla/5.0 (X11; Linux x86_64)"', '"curl/8.4.0"', '"python-requests/2.31"']

lines = []
weights = [w for _, _, w in ROUTES]
for i in range(1500):
    method, template, _ = rng.choices(ROUTES, weights)[0]
    path = template.format(tenant=rng.choice(TENANTS), n=rng.randint(1, 400))
    minute = i * 57 // 60
    stamp = f"26/Nov/2026:{minute // 60 % 24:02d}:{minute % 60:02d}:{i % 60:02d} +0000"
    ip = f"10.0.{rng.randint(0, 20)}.{rng.randint(1, 254)}"
    status = rng.choice([200, 200, 200, 200, 304, 404, 500])
    size = rng.choice(["512", "2048", "-"])
    if i % 3 == 0:  # common log format
        lines.append(f'{ip} - - [{stamp}] "{method} {path} HTTP/1.1" {status} {size}')
    else:  # combined, which is also gunicorn's default access log format
        lines.append(f'{ip} - - [{stamp}] "{method} {path} HTTP/1.1" {status} {size} "-" {rng.choice(AGENTS)}')
# Lines a real log has and nobody can read: they are counted, never fatal.
lines.insert(10, "")
lines.insert(200, "[2026-11-26 04:00:01 +0000] [42] [INFO] Booting worker with pid: 42")
lines.insert(700, '10.0.0.1 - - [26/Nov/2026:11:00:00 +0000] "\\x16\\x03\\x01" 400 -')
lines.insert(900, "garbage \x00 line")
OUT.write_text("\n".join(lines) + "\n")
print(f"wrote {OUT} ({len(lines)} lines)")
