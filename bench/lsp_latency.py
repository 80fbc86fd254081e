"""How long `leakfix server` takes to answer on a large workspace: the first diagnostics after
a document opens (the workspace is read then), and the diagnostics after each edit (one document
analysed again with what the workspace knows). Medians over several edits.

usage: lsp_latency.py LEAKFIX [WORKSPACE] [FILE-IN-WORKSPACE]
"""
import pathlib
import statistics
import sys
import sysconfig
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tests/lsp"))
from lsp_client import Client  # noqa: E402

leakfix = str(pathlib.Path(sys.argv[1]).resolve())
root = pathlib.Path(sys.argv[2] if len(sys.argv) > 2 else sysconfig.get_paths()["stdlib"]).resolve()
target = root / (sys.argv[3] if len(sys.argv) > 3 else "sqlite3/dump.py")
files = sum(1 for _ in root.rglob("*.py"))

c = Client([leakfix, "server", "-j", "1"])
c.request("initialize", {"rootUri": "file://" + str(root), "capabilities": {}})
c.notify("initialized", {})
text = target.read_text()
uri = "file://" + str(target)
t0 = time.perf_counter()
c.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}})
first = c.diagnostics(uri, timeout=600)
open_s = time.perf_counter() - t0
edits = []
for v in range(2, 22):
    edited = text + f"\n\ndef _edit_{v}():\n    import sqlite3\n    c = sqlite3.connect(':memory:')\n    return c.execute('select 1')\n"
    c.forget(uri)
    t0 = time.perf_counter()
    c.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": v}, "contentChanges": [{"text": edited}]})
    got = c.diagnostics(uri)
    edits.append(time.perf_counter() - t0)
    assert len(got) == len(first) + 1, (len(got), len(first))
c.request("shutdown", None)
c.notify("exit", None)
c.close()
print(f"lsp: workspace {root} ({files} .py files), one thread")
print(f"lsp: first diagnostics after didOpen (workspace read): {open_s * 1000:.0f} ms")
print(f"lsp: diagnostics after an edit: median {statistics.median(edits) * 1000:.1f} ms over {len(edits)} edits "
      f"({open_s / statistics.median(edits):.0f}x faster than the first)")
