#!/usr/bin/env python3
"""What leakfix_runtime costs an application.

    bench/runtime_overhead.py [--n 200000] [--requests 2000] [--repeats 7]

1. Per acquisition: a factory returning a Python connection object, acquired and closed in a
   loop, with and without the runtime wrapping the factory and the close (median of --repeats
   runs each, alternated): the difference per acquisition (target: under 2 microseconds).
2. Per request: the example app's routes through Flask's test client (examples/sportsbook-load's
   stand-in database), the same requests in batches with and without the runtime, each in its
   own process (median batch time per request; target: no measurable change).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ACQUIRE = r"""
import sys, time, json
sys.path.insert(0, {runtime!r})
class Conn:
    def __init__(self):
        self.closed = False
    def close(self):
        self.closed = True
def get_db_connection():
    return Conn()
mod = type(sys)("appdb")
mod.__file__ = {file!r}
mod.get_db_connection = get_db_connection
mod.Conn = Conn
sys.modules["appdb"] = mod
if {wrapped}:
    import leakfix_runtime
    leakfix_runtime.install(rules={{"acquirers": [{{"call": "get_db_connection"}}], "releases": [], "methods": ["close"]}}, root={root!r})
f = mod.get_db_connection
n = {n}
start = time.perf_counter()
for _ in range(n):
    c = f()
    c.close()
print(json.dumps((time.perf_counter() - start) / n))
"""

REQUESTS = r"""
import sys, time, json, gc
sys.path[:0] = [{fakedb!r}, {app!r}, {runtime!r}]
if {wrapped}:
    import leakfix_runtime
    leakfix_runtime.install(root={app!r})
from src.app import create_app
app = create_app()
app.config["PROPAGATE_EXCEPTIONS"] = False
app.logger.disabled = True
client = app.test_client()
paths = ["/theme/acme", "/leaderboard/player/1", "/register/check?email=x@example.com", "/t/1/home"]
for p in paths:
    client.get(p).close()
n = {n}
start = time.perf_counter()
for i in range(n):
    client.get(paths[i % len(paths)]).close()
print(json.dumps((time.perf_counter() - start) / n))
"""


def timed(code):
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        sys.exit(f"bench: {r.stderr[-800:]}")
    return json.loads(r.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200000)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    runtime = os.path.join(ROOT, "runtime")
    here = os.path.join(ROOT, "bench", "out")
    os.makedirs(here, exist_ok=True)
    fields = dict(runtime=runtime, file=os.path.join(here, "appdb.py"), root=here, n=args.n)
    plain, wrapped = [], []
    for _ in range(args.repeats):
        plain.append(timed(ACQUIRE.format(wrapped=False, **fields)))
        wrapped.append(timed(ACQUIRE.format(wrapped=True, **fields)))
    p, w = statistics.median(plain), statistics.median(wrapped)
    overhead = statistics.median(b - a for a, b in zip(plain, wrapped))
    print(f"leakfix_runtime, {sys.version.split()[0]}, median of {args.repeats} runs each")
    print(f"  acquire + close, unwrapped            {p * 1e6:8.3f} us")
    print(f"  acquire + close, under the runtime    {w * 1e6:8.3f} us")
    print(f"  cost per acquisition                  {overhead * 1e6:8.3f} us   (target under 2 us)")
    app = os.path.join(ROOT, "examples", "sportsbook")
    fakedb = os.path.join(ROOT, "examples", "sportsbook-load", "fakedb")
    rfields = dict(runtime=runtime, app=app, fakedb=fakedb, n=args.requests)
    plain, wrapped = [], []
    for _ in range(args.repeats):
        plain.append(timed(REQUESTS.format(wrapped=False, **rfields)))
        wrapped.append(timed(REQUESTS.format(wrapped=True, **rfields)))
    p, w = statistics.median(plain), statistics.median(wrapped)
    ratio = statistics.median(b / a for a, b in zip(plain, wrapped))
    spread = (max(plain) - min(plain)) / statistics.median(plain)
    print(f"  Flask test client request, unwrapped  {p * 1e6:8.1f} us")
    print(f"  Flask test client request, runtime    {w * 1e6:8.1f} us   {ratio:.3f}x (run-to-run spread without it: "
          f"{spread * 100:.1f}%)")
    print(json.dumps({"runtime_us_per_acquisition": round(overhead * 1e6, 3), "runtime_request_ratio": round(ratio, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
