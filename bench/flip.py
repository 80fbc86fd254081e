#!/usr/bin/env python3
"""Swaps one text of a file for another, or back: `flip.py FILE A B` writes B where the file has
A, else A where it has B. The warm-scan benches edit a file this way before each run."""
import sys

path, a, b = sys.argv[1], sys.argv[2].encode().decode("unicode_escape"), sys.argv[3].encode().decode("unicode_escape")
with open(path) as f:
    text = f.read()
if a in text:
    text = text.replace(a, b, 1)
elif b in text:
    text = text.replace(b, a, 1)
else:
    sys.exit(f"flip: {path} holds neither text")
with open(path, "w") as f:
    f.write(text)
