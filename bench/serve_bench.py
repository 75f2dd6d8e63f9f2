"""Stages what bench/serve.sh puts into s3rver, under WORK/staged: SESSIONS index entries (as
search_bench.py writes them, over 30 days) and one large session of BIG_MIB MiB with its index
entry. Prints the large session's id."""
import argparse
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from search_bench import uuid7, write_entries  # noqa: E402


def big_session(root, mib):
    rnd = random.Random(7)
    ms = int(time.time() * 1000) - 60000
    sid = uuid7(ms, rnd)
    day = time.strftime("%Y-%m-%d", time.gmtime(ms / 1000))
    meta = {"id": sid, "source": "runtime", "node": "node-1", "machine_id": "0" * 32,
            "user": "root", "uid": 0, "gid": 0, "argv": ["sh", "-c", "big-output"], "cwd": "/",
            "env": {}, "terminal": True, "runtime": "kubernetes-cri", "container_id": "b" * 64,
            "namespace": "bench", "pod": "big", "container": "app", "image": "busybox",
            "width": 120, "height": 40, "start_ns": ms * 1000000, "state": "recording"}
    key = "sessions/date=%s/bench/big/app/%s.cast" % (day, sid)
    path = os.path.join(root, key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    header = json.dumps({"version": 2, "width": 120, "height": 40, "timestamp": ms // 1000,
                         "ttyaudit": meta})
    pad = "y" * 3900
    target = mib << 20
    size = 0
    t = 0.0
    n = 0
    with open(path, "w") as f:
        f.write(header + "\n")
        while size < target:
            lines = []
            for _ in range(256):
                t += 0.002
                n += 1
                lines.append('[%.6f, "o", "\\u001b[32mline %d\\u001b[0m %s\\r\\n"]\n' % (t, n, pad))
            block = "".join(lines)
            f.write(block)
            size += len(block)
    meta.update(state="exited", exit_code=0, end_ns=int((ms + t * 1000) * 1000000),
                bytes_out=size)
    entry = {"manifest_version": 1, "session": meta, "commands": [
        {"pid": 10, "ppid": 1, "argv": ["big-output"], "cwd": "/", "uid": 0, "euid": 0,
         "start": 0.001, "end": t, "exit_code": 0, "signal": 0}],
        "escalations": [], "escalated": False, "key": key, "cast_size": os.path.getsize(path)}
    d = os.path.join(root, "index", "date=" + day, "node=node-1")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, sid + ".json"), "w") as f:
        json.dump(entry, f, separators=(",", ":"))
        f.write("\n")
    return sid


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--work", required=True)
    p.add_argument("--sessions", type=int, required=True)
    p.add_argument("--big-mib", type=int, required=True)
    a = p.parse_args()
    root = os.path.join(a.work, "staged")
    write_entries(root, a.sessions - 1, 5)
    print(big_session(root, a.big_mib))


main()
