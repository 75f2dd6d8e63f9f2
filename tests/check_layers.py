#!/usr/bin/env python3
"""Checks the include order of docs/ARCHITECTURE.md: a library includes only libraries below it,
a binary's folder includes only libraries (and itself), and no files include each other in a
loop. Prints each offending include and exits 1; prints a one-line summary and exits 0 if none."""
import os
import re
import sys

# Lowest first: a library may include itself and those before it.
LIBRARIES = ["base", "sandbox", "config", "track", "record", "screen", "oci", "store", "catalog"]
BINARIES = ["runtime", "oci-hook", "tracker", "uploader", "cli"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def folder_of(path):
    return path.split("/", 1)[0]


def allowed(src, dst):
    a, b = folder_of(src), folder_of(dst)
    if a == b or src.endswith("_test.cc"):
        return True  # a unit test may drive the real neighbours of what it tests
    if a in LIBRARIES:
        return b in LIBRARIES and LIBRARIES.index(b) < LIBRARIES.index(a)
    if a in BINARIES:
        return b in LIBRARIES
    return True  # tests/ and bench/ may use anything


def main(root):
    os.chdir(root)
    graph = {}
    bad = []
    for top in LIBRARIES + BINARIES:
        for dirpath, _, names in os.walk(top):
            for n in sorted(names):
                if not n.endswith((".h", ".cc")):
                    continue
                path = os.path.join(dirpath, n)
                text = open(path, encoding="utf-8", errors="replace").read()
                deps = [d for d in INCLUDE.findall(text) if "/" in d]
                graph[path] = deps
                for d in deps:
                    if d.endswith(".skel.h"):
                        continue  # made by the build (bpftool gen skeleton)
                    if not os.path.exists(d):
                        bad.append(f"{path}: includes {d}, which does not exist")
                    elif not allowed(path, d):
                        bad.append(f"{path}: includes {d}, a folder it may not include")
    # Loops of includes (two files that include each other, or longer).
    state = {}
    stack = []

    def visit(f):
        state[f] = 1
        stack.append(f)
        for d in graph.get(f, []):
            if state.get(d) == 1:
                bad.append("include loop: " + " -> ".join(stack[stack.index(d):] + [d]))
            elif d in graph and d not in state:
                visit(d)
        stack.pop()
        state[f] = 2

    for f in sorted(graph):
        if f not in state:
            visit(f)
    for b in bad:
        print(b)
    if bad:
        print(f"layers: {len(bad)} include(s) out of order")
        return 1
    print(f"layers: {len(graph)} files, every include in order, no loops")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")))
