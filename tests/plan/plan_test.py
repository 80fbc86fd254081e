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
check("rollback reverts the phase's commit", "git revert --no-edit leakfix-phase-1" in md)
# Requests are counted once: an every-request hook reaches every request of the log, and a phase
# or file that holds it served no more than the log holds.
impacts = [int(m.replace(",", "")) for m in re.findall(r"which served ([\d,]+) requests in the log", md)]
check("no phase claims more requests than the log has", impacts and max(impacts) <= doc["traffic"]["requests"], str(impacts))
files = [int(m.replace(",", "")) for m in re.findall(r"^#### `[^`]+` \(([\d,]+) requests\)", md, re.M)]
check("no file claims more requests than the log has", files and max(files) <= doc["traffic"]["requests"], str(files))
# Effort is counted once: a phase's item that needs a person is in its phase, not again in review.
review_only = sum(1 for i in doc["review"] if i["kind"] in ("escapes", "parse-error"))
check("manual review's effort counts only items of no phase",
      f"| Manual review | alongside phase 1 | {review_only * 20} min |" in md, md[md.find("## Timeline"):][:600])

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

# The plan's own commands run as printed, phase after phase, in a git work tree: each phase is
# one commit and leaves nothing fixable of its kinds. Rolling back phase 2 as the plan says
# brings back phase 2's findings and keeps phase 1's fixes.
def code_blocks(markdown):
    """The ```bash blocks of a Markdown text, each with the heading above it."""
    out, heading, block = [], "", None
    for line in markdown.splitlines():
        if block is None and line.startswith("#"):
            heading = line
        elif block is None and line.strip() == "```bash":
            block = []
        elif block is not None and line.strip() == "```":
            out.append((heading, "\n".join(block)))
            block = None
        elif block is not None:
            block.append(line)
    return out


def kinds_left(work):
    r = leakfix("scan", "examples/sportsbook", "--format", "json", cwd=work)
    counts = {}
    for f in json.loads(r.stdout)["findings"]:
        counts[(f["kind"], f["fixable"])] = counts.get((f["kind"], f["fixable"]), 0) + 1
    return counts


with tempfile.TemporaryDirectory() as tmp:
    import os
    import shutil
    work = pathlib.Path(tmp) / "repo"
    shutil.copytree(ROOT / "examples/sportsbook", work / "examples/sportsbook")
    bin_dir = pathlib.Path(tmp) / "bin"
    bin_dir.mkdir()
    (bin_dir / "leakfix").symlink_to(pathlib.Path(sys.argv[1]).resolve())
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", HOME=tmp, GIT_CONFIG_NOSYSTEM="1",
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.com")

    def sh(script):
        return subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True)

    sh("git init -q -b main && git add -A && git commit -q -m base")
    before = kinds_left(work)
    md = leakfix("plan", "examples/sportsbook", cwd=work).stdout
    blocks = code_blocks(md)
    phases = [(h, b) for h, b in blocks if h.startswith("## Phase")]
    rollbacks = [b for h, b in blocks if h.startswith("## Rollback")]
    check("the plan prints a block per phase", len(phases) == 3, md[:2000])
    check("and a rollback per phase", len(rollbacks) == 3 and all(b.startswith("git revert") for b in rollbacks), str(rollbacks))
    after_phase = []
    for number, (heading, block) in enumerate(phases[:2], 1):
        r = sh(block)
        check(f"phase {number}'s block runs as printed", r.returncode == 0 and "error" not in r.stderr.lower(),
              f"rc {r.returncode}: {r.stdout[-400:]} {r.stderr[-400:]}")
        check(f"phase {number} is one commit, tagged", sh(f"git rev-parse -q --verify leakfix-phase-{number}").returncode == 0)
        check(f"phase {number} leaves a clean work tree", sh("git status --porcelain --untracked-files=no").stdout == "")
        after_phase.append(kinds_left(work))
    urgent = lambda c: sum(n for (k, fixable), n in c.items() if k in ("never-closed", "leaky-path") and fixable)  # noqa: E731
    exceptions = lambda c: sum(n for (k, fixable), n in c.items() if k == "exception-unsafe" and fixable)  # noqa: E731
    check("phase 1 fixes the urgent findings", urgent(before) > 0 and urgent(after_phase[0]) == 0, str(after_phase[0]))
    check("phase 2 fixes the exception paths", exceptions(before) > 0 and exceptions(after_phase[1]) == 0, str(after_phase[1]))
    r = sh(rollbacks[1])
    check("phase 2's rollback runs as printed", r.returncode == 0, r.stderr[-400:])
    rolled = kinds_left(work)
    check("rolling back phase 2 brings its findings back", exceptions(rolled) == exceptions(before), str(rolled))
    check("and keeps phase 1's fixes", urgent(rolled) == 0, str(rolled))
    r = sh(phases[2][1])
    check("phase 3's block runs after the rollback", r.returncode == 0, r.stderr[-400:])

finish()
