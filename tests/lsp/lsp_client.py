"""A minimal LSP client over a subprocess's stdin/stdout, for the server's tests."""
import json
import os
import select
import subprocess
import time


class Client:
    def __init__(self, argv, cwd=None):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd)
        self.next_id = 0
        self.buffer = b""
        self.inbox = []  # notifications and server requests not yet looked at

    def send(self, message):
        body = json.dumps(message).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def send_raw(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def _read(self, timeout):
        deadline = time.time() + timeout
        fd = self.proc.stdout.fileno()
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end >= 0:
                length = None
                for line in self.buffer[:head_end].split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                assert length is not None, self.buffer[:head_end]
                if len(self.buffer) >= head_end + 4 + length:
                    body = self.buffer[head_end + 4 : head_end + 4 + length]
                    self.buffer = self.buffer[head_end + 4 + length :]
                    return json.loads(body)
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError("no message from the server")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise EOFError("the server closed its output: " + self.proc.stderr.read().decode(errors="replace"))
                self.buffer += chunk

    def request(self, method, params, timeout=60):
        self.next_id += 1
        my_id = self.next_id
        self.send({"jsonrpc": "2.0", "id": my_id, "method": method, "params": params})
        while True:
            m = self._read(timeout)
            if m.get("id") == my_id and "method" not in m:
                return m
            self.inbox.append(m)

    def wait_for(self, predicate, timeout=60):
        """The first message (kept or new) that `predicate` accepts; it is taken from the inbox."""
        deadline = time.time() + timeout
        while True:
            for i, m in enumerate(self.inbox):
                if predicate(m):
                    return self.inbox.pop(i)
            self.inbox.append(self._read(max(0.01, deadline - time.time())))

    def forget(self, uri):
        """Drops the diagnostics of `uri` received so far: the next ones are answers to what follows."""
        self.inbox = [m for m in self.inbox if not (m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri)]

    def diagnostics(self, uri, timeout=60):
        m = self.wait_for(lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri, timeout)
        return m["params"]["diagnostics"]

    def close(self, timeout=30):
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        return self.proc.wait(timeout)


def utf16_to_index(line, character):
    """The Python string index of a UTF-16 code unit offset in `line`."""
    units = 0
    for i, ch in enumerate(line):
        if units >= character:
            return i
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(line)


def apply_edits(text, edits, encoding="utf-16"):
    """Applies LSP TextEdits (non-overlapping) to `text`."""
    lines = text.split("\n")
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)

    def offset(pos):
        if pos["line"] >= len(lines):
            return len(text)
        line = lines[pos["line"]]
        if encoding == "utf-16":
            index = utf16_to_index(line, pos["character"])
        else:
            index = len(line.encode()[: pos["character"]].decode(errors="ignore"))
        return starts[pos["line"]] + index

    for e in sorted(edits, key=lambda e: (e["range"]["start"]["line"], e["range"]["start"]["character"]), reverse=True):
        a, b = offset(e["range"]["start"]), offset(e["range"]["end"])
        text = text[:a] + e["newText"] + text[b:]
    return text
