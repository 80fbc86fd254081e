"""Shared by the Python tests, as tests/e2e/harness.sh is by the shell ones: run as
`python3 TEST.py LEAKFIX`, a test gets ROOT (the repository), LEAKFIX (absolute), leakfix(*args)
to run it, check(name, ok, detail) and finish() to report and exit."""
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
LEAKFIX = str(pathlib.Path(sys.argv[1]).resolve())
failures = []


def check(name, ok, detail=""):
    if not ok:
        failures.append(name)
        print(f"FAIL: {name} {detail}")


def leakfix(*args, cwd=ROOT, timeout=120, text=True):
    return subprocess.run([LEAKFIX, *args], cwd=cwd, capture_output=True, text=text, timeout=timeout)


def finish():
    print(f"{'FAILED' if failures else 'ok'}: {len(failures)} failure(s)")
    sys.exit(1 if failures else 0)
