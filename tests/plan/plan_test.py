#!/usr/bin/env python3
"""`leakfix plan`: exposure of every decorator and blueprint shape, golden Markdown and JSON plans
for the example app with and without an access log, the committed example in docs/, and bad input."""
import json
import pathlib
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from harness import ROOT, check, finish, leakfix  # noqa: E402

HERE = ROOT / "tests/plan"

# Exposure and route of every shape, annotated in the fixture: `# expect-route: ROUTE | EXPOSURE`.
r = leakfix("scan", "tests/plan/exposure", "--format", "json")
found = {(pathlib.Path(f["file"]).name, f["line"]): f for f in json.loads(r.stdout)["findings"]}
expected = 0
for path in sorted((HERE / "exposure").glob("*.py")):
    for number, line in enumerate(path.read_text().splitlines(), 1):
        m = re.search(r"# expect-route: (.+?) \| (\w+)", line)
        if not m:
            continue
        expected += 1
        f = found.get((path.name, number))
        route = None if m.group(1) == "-" else m.group(1)
        check(f"{path.name}:{number} route", f is not None and f["route"] == route, f"got {f and f['route']!r}, want {route!r}")
        check(f"{path.name}:{number} exposure", f is not None and f["exposure"] == m.group(2),
              f"got {f and f['exposure']!r}, want {m.group(2)!r}")
check("every exposure annotation is a finding", expected == len(found), f"{expected} annotations, {len(found)} findings")

# Golden plans: regenerate with scripts/update-plan-docs.sh after reading the diff.
cases = {
    "plan.md": ["plan", "examples/sportsbook"],
    "plan.json": ["plan", "examples/sportsbook", "--format", "json"],
    "plan-traffic.md": ["plan", "examples/sportsbook", "--traffic", "tests/plan/access.log"],
    "plan-traffic.json": ["plan", "examples/sportsbook", "--traffic", "tests/plan/access.log", "--format", "json"],
}
for name, args in cases.items():
    r = leakfix(*args)
    check(f"{name}: exit 0", r.returncode == 0, r.stderr)
    want = (HERE / "expected" / name).read_text()
    check(f"{name} matches tests/plan/expected (run scripts/update-plan-docs.sh if the change is right)", r.stdout == want)
check("docs/plan-example.md is current (scripts/update-plan-docs.sh)",
      (ROOT / "docs/plan-example.md").read_text() == (HERE / "expected/plan-traffic.md").read_text())

# The sample access log is what its generator writes.
with tempfile.TemporaryDirectory() as tmp:
    subprocess.run([sys.executable, str(HERE / "make_access_log.py"), tmp + "/access.log"], capture_output=True)
    check("access.log is what make_access_log.py writes",
          pathlib.Path(tmp, "access.log").read_bytes() == (HERE / "access.log").read_bytes())

# JSON: phases -> items with the finding fields, priority, traffic, effort.
doc = json.loads((HERE / "expected/plan-traffic.json").read_text())
items = [i for p in doc["phases"] for i in p["items"]]
fields = {"file", "line", "function", "kind", "exposure", "route", "phase", "fixable", "priority", "traffic", "effort_minutes"}
check("json items carry the contract fields", items and all(fields <= set(i) for i in items))
check("json phases in order", [p["phase"] for p in doc["phases"]] == [1, 2, 3])
check("json: high before low in each phase", all(
    [i["priority"] for i in p["items"]] == sorted((i["priority"] for i in p["items"]), key=["high", "low", "internal"].index)
    for p in doc["phases"]))
check("json: the busiest route first", doc["phases"][0]["items"][0]["function"] == "resolve_tenant")
check("json: traffic summary", doc["traffic"]["unreadable"] == 3 and doc["traffic"]["requests"] == 1500)
check("json: admin items are low priority",
      all(i["priority"] == "low" for i in items if i["exposure"] == "admin"))
check("json: the review list has the escapes", {i["function"] for i in doc["review"]} >= {"odds_stream", "open_tenant_db"})

# Markdown reads in the right order: phases, then review, timeline, criteria, monitoring, rollback.
md = (HERE / "expected/plan-traffic.md").read_text()
order = ["## Phase 1", "## Phase 2", "## Phase 3", "## Manual review", "## Timeline", "## Success criteria",
         "## Monitoring", "## Rollback"]
positions = [md.find(h) for h in order]
check("markdown sections in order", all(p >= 0 for p in positions) and positions == sorted(positions))
phase1 = md[md.find("## Phase 1"):md.find("## Phase 2")]
check("phase 1: high priority before low", phase1.find("### High priority") < phase1.find("### Low priority"))
check("phase 1: the command fixes its kinds", "leakfix fix --write --kind never-closed --kind leaky-path" in phase1)
check("rollback names the files", "git checkout leakfix-phase-1-base -- examples/sportsbook/src/routes/branding.py" in md)

# Output file, bad log, garbage log.
with tempfile.TemporaryDirectory() as tmp:
    out = pathlib.Path(tmp) / "PLAN.md"
    r = leakfix("plan", "examples/sportsbook", "-o", str(out))
    check("-o writes the file", r.returncode == 0 and out.read_text() == (HERE / "expected/plan.md").read_text())
    r = leakfix("plan", "examples/sportsbook", "--traffic", str(pathlib.Path(tmp) / "missing.log"))
    check("missing log: exit 2 naming it", r.returncode == 2 and "missing.log" in r.stderr, r.stderr)
    garbage = pathlib.Path(tmp) / "garbage.log"
    garbage.write_bytes(b"\x00\xff not a log\n" * 50 + b"x" * 100000 + b"\n")
    r = leakfix("plan", "examples/sportsbook", "--traffic", str(garbage), "--format", "json")
    check("garbage log: plan still written", r.returncode == 0 and json.loads(r.stdout)["traffic"]["unreadable"] == 51,
          r.stderr)
    check("garbage log: warned", "51 of 51 lines" in r.stderr, r.stderr)
    r = leakfix("plan", str(pathlib.Path(tmp)))
    check("nothing to plan", r.returncode == 0 and "Nothing to do" in r.stdout)

# The plan's own commands run as printed, phase after phase, and leave nothing fixable behind.
with tempfile.TemporaryDirectory() as tmp:
    import shlex
    import shutil
    work = pathlib.Path(tmp)
    shutil.copytree(ROOT / "examples/sportsbook", work / "examples/sportsbook")
    r = leakfix("plan", "examples/sportsbook", cwd=work)
    commands = [line.strip() for line in r.stdout.splitlines() if line.strip().startswith("leakfix fix ")]
    check("the plan prints a command per phase", len(commands) == 3, r.stdout)
    for command in commands:
        args = shlex.split(command)[1:]
        r = leakfix(*args, cwd=work)
        check(f"plan command runs as printed: {command[:60]}...", r.returncode in (0, 1) and "error" not in r.stderr,
              f"rc {r.returncode}: {r.stderr}")
    r = leakfix("scan", "examples/sportsbook", "--format", "json", cwd=work)
    left = [f"{f['file']}:{f['line']}" for f in json.loads(r.stdout)["findings"] if f["fixable"]]
    check("after the plan's commands nothing fixable is left", not left, left)

finish()
