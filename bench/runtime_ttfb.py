#!/usr/bin/env python3
"""Times a command that prints: wall seconds until its first output byte, and until it exits.

Usage: runtime_ttfb.py RUNS -- CMD ARGS...   (prints one JSON list of [first_byte_s, total_s])
The command runs under a pty (script(1) is not needed): the child gets a terminal on stdin,
stdout and stderr, as `ctr task exec -t` wants.
"""
import json
import os
import pty
import select
import sys
import time


def one(argv):
    start = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    first = None
    while True:
        r, _, _ = select.select([fd], [], [], 30)
        if not r:
            break
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        if first is None:
            first = time.monotonic() - start
    os.waitpid(pid, 0)
    total = time.monotonic() - start
    os.close(fd)
    return [first if first is not None else total, total]


def main():
    runs = int(sys.argv[1])
    argv = sys.argv[sys.argv.index("--") + 1:]
    print(json.dumps([one(argv) for _ in range(runs)]))


if __name__ == "__main__":
    main()
