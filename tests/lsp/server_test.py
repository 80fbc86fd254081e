"""`leakfix server` end to end over its protocol: diagnostics as `scan` gives them, code actions
that do what `fix --write` does, suppressions, hover, discovery across files held only in the
editor, UTF-16 and UTF-8 positions, bad input, and the shutdown handshake.

usage: server_test.py LEAKFIX SOURCE_DIR
"""
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(pathlib.Path(__file__).parent))
from harness import LEAKFIX, check, finish  # noqa: E402
from harness import ROOT as SOURCE  # noqa: E402
from lsp_client import Client, apply_edits  # noqa: E402


def start(root, *args, encodings=None):
    c = Client([LEAKFIX, "server", *args])
    caps = {"textDocument": {"codeAction": {"disabledSupport": True}}}
    if encodings:
        caps["general"] = {"positionEncodings": encodings}
    r = c.request("initialize", {"processId": None, "rootUri": "file://" + str(root), "capabilities": caps})
    c.notify("initialized", {})
    return c, r["result"]


def open_doc(c, path, text=None):
    uri = "file://" + str(path)
    c.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                                       "text": path.read_text() if text is None else text}})
    return uri


def change(c, uri, version, text):
    c.forget(uri)
    c.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]})


def actions(c, uri, diag):
    return c.request("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": diag["range"],
                                                 "context": {"diagnostics": [diag]}})["result"]


def stop(c):
    c.request("shutdown", None)
    c.notify("exit", None)
    return c.close()


work = pathlib.Path(tempfile.mkdtemp(prefix="leakfix-lsp-"))
try:
    # 1. The example app: per file, the diagnostics are scan's findings.
    app = work / "app"
    shutil.copytree(SOURCE / "examples/sportsbook", app)
    scan = json.loads(subprocess.run([LEAKFIX, "scan", ".", "--format", "json"], cwd=app, capture_output=True, text=True).stdout)
    by_file = {}
    for f in scan["findings"]:
        by_file.setdefault(f["file"], []).append((f["kind"], f["line"], f["column"]))
    c, caps = start(app)
    check("initialize states hover, code actions and whole-text sync", caps["capabilities"]["hoverProvider"] and caps["capabilities"]["textDocumentSync"]["change"] == 1)
    check("UTF-16 positions when the client offers no other", "positionEncoding" not in caps["capabilities"])
    files = sorted(p for p in (app / "src").rglob("*.py"))
    uris = {p: open_doc(c, p) for p in files}
    diags = {p: c.diagnostics(uris[p]) for p in files}
    same = all(sorted((d["code"], d["range"]["start"]["line"] + 1, d["range"]["start"]["character"] + 1) for d in diags[p])
               == sorted(by_file.get(str(p.relative_to(app)), [])) for p in files)
    check(f"diagnostics of {len(files)} open files are scan's {len(scan['findings'])} findings", same)
    leaky = [(p, d) for p in files for d in diags[p] if d["code"] == "leaky-path"]
    check("a leaky-path diagnostic points at where it leaks (relatedInformation)", leaky and all(d.get("relatedInformation") and d["relatedInformation"][0]["message"] for _, d in leaky))
    check("every diagnostic names its source and a severity", all(d["source"] == "leakfix" and d["severity"] in (1, 2, 3) for p in files for d in diags[p]))

    # 2. Fix all of a file gives what `leakfix fix --write` gives; a single fix removes its finding.
    fixed = work / "fixed"
    shutil.copytree(SOURCE / "examples/sportsbook", fixed)
    subprocess.run([LEAKFIX, "fix", "--write", "-q", "."], cwd=fixed, capture_output=True)
    agree, tried = True, 0
    for p in files:
        fixable = [d for d in diags[p] if d["code"] != "escapes"]
        if not fixable:
            continue
        acts = c.request("textDocument/codeAction", {"textDocument": {"uri": uris[p]}, "range": fixable[0]["range"],
                                                     "context": {"diagnostics": [], "only": ["source.fixAll"]}})["result"]
        all_fix = [a for a in acts if a["kind"] == "source.fixAll.leakfix"]
        expected = (fixed / p.relative_to(app)).read_text()
        if not all_fix:
            agree &= expected == p.read_text()
            continue
        tried += 1
        edits = all_fix[0]["edit"]["changes"]
        text = apply_edits(p.read_text(), edits[uris[p]])
        if text != expected:
            agree = False
            print(f"  {p.relative_to(app)} differs from fix --write")
    check(f"fix-all of {tried} files equals `leakfix fix --write`", agree and tried >= 3)

    p, d = leaky[0]
    acts = actions(c, uris[p], d)
    fix = [a for a in acts if a["title"].startswith("Fix:")]
    ignore = [a for a in acts if a["title"].startswith("Ignore")]
    check("a leaky-path finding has one preferred fix action", len(fix) == 1 and fix[0]["isPreferred"] and fix[0]["diagnostics"][0]["code"] == "leaky-path")
    after = apply_edits(p.read_text(), fix[0]["edit"]["changes"][uris[p]])
    compile(after, str(p), "exec")
    change(c, uris[p], 2, after)
    left = c.diagnostics(uris[p])
    check("after the fix its diagnostic is gone and the others stay", not any(x["range"]["start"] == d["range"]["start"] and x["code"] == "leaky-path" for x in left)
          and len(left) == len(diags[p]) - 1)

    # 3. The suppression comment hides that finding and nothing else.
    q, e = [(q, e) for q, e in leaky if q != p][0] if len({q for q, _ in leaky}) > 1 else (p, left[0])
    acts = actions(c, uris[q], e)
    ignore = [a for a in acts if a["title"].startswith("Ignore")]
    check("an ignore action is offered", len(ignore) == 1)
    suppressed = apply_edits((q.read_text() if q != p else after), ignore[0]["edit"]["changes"][uris[q]])
    check("the ignore action writes `# leakfix: ignore[kind]`", "# leakfix: ignore[" in suppressed)
    change(c, uris[q], 3, suppressed)
    now = c.diagnostics(uris[q])
    check("after the ignore action the finding is not reported", not any(x["range"]["start"] == e["range"]["start"] and x["code"] == e["code"] for x in now))

    # 4. Hover on the acquisition and on where it leaks: the finding and its kind's doc.
    r, dd = [(r, x) for r in files for x in diags[r] if x["code"] == "leaky-path" and r not in (p, q)][0]
    hover = c.request("textDocument/hover", {"textDocument": {"uri": uris[r]}, "position": dd["range"]["start"]})["result"]
    check("hover shows the message and `leakfix explain leaky-path`", hover and hover["contents"]["kind"] == "markdown" and "# leaky-path" in hover["contents"]["value"]
          and dd["message"] in hover["contents"]["value"])
    at_exit = dd["relatedInformation"][0]["location"]["range"]["start"]
    hover = c.request("textDocument/hover", {"textDocument": {"uri": uris[r]}, "position": at_exit})["result"]
    check("hover works where it leaks too", hover is not None and "leaky-path" in hover["contents"]["value"])
    nothing = c.request("textDocument/hover", {"textDocument": {"uri": uris[r]}, "position": {"line": 0, "character": 0}})
    check("hover elsewhere answers null", nothing.get("result") is None and "error" not in nothing)

    # 5. Bad input: not JSON, no length, unknown methods; the server goes on.
    c.send_raw(b"Content-Length: 5\r\n\r\n{bad}")
    err = c.wait_for(lambda m: "error" in m and m.get("id") is None)
    check("a body that is not JSON is answered with a parse error", err["error"]["code"] == -32700)
    c.send_raw(b"X-Nothing: 1\r\n\r\n")
    err = c.wait_for(lambda m: "error" in m and m.get("id") is None)
    check("a message without Content-Length is named", "Content-Length" in err["error"]["message"])
    r2 = c.request("workspace/symbol", {"query": "x"})
    check("an unknown request gets MethodNotFound", r2.get("error", {}).get("code") == -32601)
    r3 = c.request("textDocument/hover", {"textDocument": {"uri": "file:///nowhere.py"}, "position": {"line": 0, "character": 0}})
    check("a request about a document never opened answers null", "error" not in r3 and r3["result"] is None)
    check("shutdown then exit: exit status 0", stop(c) == 0)

    # 6. Discovery across files that exist only in the editor; the workspace is read again when
    #    a document changes what it gives the others.
    proj = work / "proj"
    (proj / "pkg").mkdir(parents=True)
    (proj / "pkg/__init__.py").write_text("")
    (proj / "pkg/db.py").write_text("import sqlite3\n\n\ndef get_db_connection():\n    return sqlite3.connect(':memory:')\n")
    users = proj / "pkg/users.py"
    users.write_text("from .helpers import open_db\n\n\ndef count():\n    c = open_db()\n    return c.execute('select 1').fetchone()\n")
    c, _ = start(proj)
    helpers = proj / "pkg/helpers.py"  # never written to disk
    hu = open_doc(c, helpers, "from .db import get_db_connection\n\n\ndef open_db():\n    return get_db_connection()\n")
    uu = open_doc(c, users)
    got = c.diagnostics(uu)
    check("a wrapper defined in an unsaved buffer is known in another file", [x["code"] for x in got] == ["never-closed"])
    c.forget(uu)
    change(c, hu, 2, "def open_db():\n    return None\n")
    got = c.diagnostics(uu)
    check("when the buffer stops wrapping, the other file's diagnostic goes", got == [])
    c.forget(uu)
    change(c, hu, 3, "from .db import get_db_connection\n\n\ndef open_db():\n    return get_db_connection()\n")
    check("and comes back with the wrapper", [x["code"] for x in c.diagnostics(uu)] == ["never-closed"])
    c.forget(hu)
    c.notify("textDocument/didClose", {"textDocument": {"uri": hu}})
    check("closing a document clears its diagnostics", c.diagnostics(hu) == [])
    check("second server: clean exit", stop(c) == 0)

    # 7. Positions: UTF-16 code units by default, UTF-8 bytes when negotiated.
    uni = work / "uni"
    uni.mkdir()
    f = uni / "u.py"
    f.write_text("import sqlite3\n\n\ndef f():\n    s = '\U0001F600é'; c = sqlite3.connect('x')\n    return s, c.execute('x')\n")
    for enc, start_char in ((None, 19), (["utf-8", "utf-16"], 22)):
        c, caps = start(uni, encodings=enc)
        u = open_doc(c, f)
        got = c.diagnostics(u)
        check(f"column after an emoji and an accent in {caps['capabilities'].get('positionEncoding', 'utf-16')}: {start_char}", len(got) == 1 and got[0]["range"]["start"]["character"] == start_char)
        acts = actions(c, u, got[0])
        ign = [a for a in acts if a["title"].startswith("Ignore")]
        text = apply_edits(f.read_text(), ign[0]["edit"]["changes"][u], "utf-16" if enc is None else "utf-8") if ign else ""
        check("edits keep non-ASCII text intact", "leakfix: ignore" in text and "\U0001F600" in text)
        stop(c)

    # 8. A broken rule file: said, and the shipped rules still work; no shutdown: exit status 1.
    (uni / ".leakfix.yaml").write_text("rules: [\n")
    c, _ = start(uni)
    u = open_doc(c, f)
    shown = c.wait_for(lambda m: m.get("method") == "window/showMessage")
    check("a broken rule file is shown, naming it", ".leakfix.yaml" in shown["params"]["message"])
    check("the shipped rules still report", len(c.diagnostics(u)) == 1)
    check("input closed without shutdown: exit status 1", c.close() == 1)

    # 9. A second server on the same workspace reads it from the summary cache, with a buffer
    #    that differs from its file, and says the same.
    for attempt in range(2):
        c, _ = start(app)
        u = open_doc(c, files[0], files[0].read_text() + "\n\ndef extra():\n    return 1\n")
        got = c.diagnostics(u)
        log = c.wait_for(lambda m: m.get("method") == "window/logMessage" and "read" in m["params"]["message"])
        stop(c)
        if attempt == 0:
            first_log, first_got = log["params"]["message"], got
    cached = int(log["params"]["message"].split("; ")[1].split(" ")[0])
    check(f"a second server reads the workspace from the cache ({log['params']['message']})", cached >= len(files) - 1 and got == first_got)

    # 10. Before initialize, requests are refused.
    c = Client([LEAKFIX, "server"])
    r = c.request("textDocument/hover", {"textDocument": {"uri": "file:///x.py"}, "position": {"line": 0, "character": 0}})
    check("a request before initialize: ServerNotInitialized", r.get("error", {}).get("code") == -32002)
    c.notify("exit", None)
    check("exit without shutdown: exit status 1", c.close() == 1)
finally:
    shutil.rmtree(work, ignore_errors=True)

finish()
