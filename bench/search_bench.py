#!/usr/bin/env python3
"""Driver of bench/search.sh: builds the archives, times the searches, writes the JSON."""
import argparse, hashlib, json, os, random, resource, shutil, subprocess, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib"))
import castchain  # noqa: E402

QUERY = ["--command", "rm -rf", "--json"]
COMMANDS = [["ls", "-la"], ["cat", "/etc/hosts"], ["ps", "aux"], ["vi", "/etc/app.conf"],
            ["curl", "-s", "http://svc:8080/health"], ["grep", "-r", "token", "/srv"],
            ["rm", "-rf", "/tmp/cache"], ["tar", "czf", "/tmp/x.tgz", "/srv/data"]]


def uuid7(ms, rnd):
    r = rnd.getrandbits(74)
    v = (ms << 80) | (0x7 << 76) | ((r >> 62) << 64) | (0b10 << 62) | (r & ((1 << 62) - 1))
    h = "%032x" % v
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


def write_entries(root, count, seed, node="node-1"):
    """COUNT index entries under root/index/, as the uploader writes them, over 30 days; about
    one session in 40 ran `rm -rf`."""
    rnd = random.Random(seed)
    now_ms = int(time.time() * 1000)
    for i in range(count):
        ms = now_ms - rnd.randrange(30 * 86400 * 1000)
        sid = uuid7(ms, rnd)
        ns_ = rnd.choice(["team-a", "team-b", "payments", "kube-system"])
        pod = "web-%d" % rnd.randrange(50)
        meta = {"id": sid, "source": "runtime", "node": node, "machine_id": "0" * 32,
                "user": "root", "uid": 0, "gid": 0, "argv": ["/bin/sh"], "cwd": "/",
                "env": {"PATH": "/usr/bin:/bin", "HOSTNAME": pod}, "terminal": True,
                "runtime": "kubernetes-cri", "container_id": "%064x" % rnd.getrandbits(256),
                "namespace": ns_, "pod": pod, "container": "app", "image": "registry.local/app:1.%d" % rnd.randrange(9),
                "width": 120, "height": 40, "start_ns": ms * 1000000,
                "end_ns": (ms + rnd.randrange(3600000)) * 1000000, "state": "exited",
                "exit_code": 0, "signal": 0, "bytes_out": rnd.randrange(1 << 20), "bytes_in": 300}
        cmds = [c for c in COMMANDS[:6] + COMMANDS[7:] if rnd.random() < 0.4]
        if rnd.random() < 0.025:
            cmds.append(COMMANDS[6])
        commands = [{"pid": 100 + j, "ppid": 1, "argv": a, "cwd": "/", "uid": 0, "euid": 0,
                     "start": 1.0 + j, "end": 2.0 + j, "exit_code": 0, "signal": 0, "exec": True,
                     "top_level": True} for j, a in enumerate(cmds)]
        day = time.strftime("%Y-%m-%d", time.gmtime(ms / 1000))
        key = "sessions/date=%s/%s/%s/app/%s.cast" % (day, ns_, pod, sid)
        entry = {"manifest_version": 1, "session": meta, "commands": commands, "escalations": [],
                 "escalated": False, "tracking": {"source": "proc_connector", "lost_events": 0},
                 "key": key, "cast_size": meta["bytes_out"] + 400,
                 "cast_sha256": hashlib.sha256(sid.encode()).hexdigest()}
        d = os.path.join(root, "index", "date=" + day, "node=" + node)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, sid + ".json"), "w") as f:
            json.dump(entry, f, separators=(",", ":"))
            f.write("\n")


# What --text looks for: a phrase a full-screen program drew in pieces, with cursor moves, so
# that only the screen holds it whole, never the raw bytes.
TEXT_QUERY = "FATAL: password authentication failed"
LOG_MESSAGES = ["GET /api/v1/orders/%d 200", "POST /api/v1/payments 201 amount=%d",
                "cache miss key=user:%d", "retrying upstream svc-%d (attempt 2)",
                "connection pool size=%d idle=3", "GET /healthz 200", "scheduled job %d done",
                "slow query %d ms: SELECT * FROM orders WHERE id = $1",
                "token refreshed for client %d", "worker %d: queue depth 17"]
SHELL_COMMANDS = ["ls -la /srv/data", "cat /etc/app.conf", "ps aux", "tail -n 50 /var/log/app.log",
                  "df -h", "env | sort", "curl -s http://svc:8080/metrics", "grep -r timeout /etc"]


def session_output(rnd, pod, needle):
    """Terminal output of one session, one chunk at a time (each a few KB): a shell's prompts,
    commands and their output, and with `needle` a full-screen monitor drawing TEXT_QUERY."""
    t = 0
    while True:
        parts = []
        if needle and rnd.random() < 0.05:
            needle = False
            parts.append("\x1b[?1049h\x1b[H\x1b[2Jdb-monitor %d\x1b[5;10HFATAL:\x1b[5;17Hpassword "
                         "authentication\x1b[5;41Hfailed for user \"admin\"\x1b[24;1H" % t)
            parts.append("\x1b[?1049l")
        parts.append("root@%s:/srv# %s\r\n" % (pod, rnd.choice(SHELL_COMMANDS)))
        for _ in range(rnd.randrange(20, 40)):
            t += rnd.randrange(1, 900)
            msg = rnd.choice(LOG_MESSAGES)
            parts.append("2026-12-03T%02d:%02d:%02d.%03dZ INFO app[%d]: %s req=%08x\r\n"
                         % (t // 3600000 % 24, t // 60000 % 60, t // 1000 % 60, t % 1000,
                            rnd.randrange(100, 999), msg.replace("%d", str(rnd.randrange(100000))),
                            rnd.getrandbits(32)))
        yield "".join(parts), needle


def write_text_sessions(spool, count, size, seed):
    """COUNT sealed sessions of about SIZE bytes of output each in SPOOL, as the recorder writes
    them (chained blocks, a manifest); one in 50 shows TEXT_QUERY on a full screen. Returns the
    ids of those."""
    os.makedirs(spool, mode=0o700, exist_ok=True)
    rnd = random.Random(seed)
    now_ms = int(time.time() * 1000)
    wanted = []
    for i in range(count):
        ms = now_ms - rnd.randrange(7 * 86400 * 1000)
        sid = uuid7(ms, rnd)
        pod = "web-%d" % rnd.randrange(50)
        needle = i % 50 == 7
        if needle:
            wanted.append(sid)
        meta = {"id": sid, "source": "runtime", "node": "node-t", "user": "root", "uid": 0,
                "argv": ["/bin/sh"], "runtime": "kubernetes-cri",
                "container_id": "%016x" % rnd.getrandbits(64), "namespace": "team-a", "pod": pod,
                "container": "app", "image": "registry.local/app:1", "width": 120, "height": 40,
                "start_ns": ms * 1000000, "state": "recording"}
        header = json.dumps({"version": 2, "width": 120, "height": 40, "timestamp": ms // 1000,
                             "ttyaudit": meta})
        header_line = (header.ljust(len(header) + 256) + "\n").encode()
        data, head, blocks, total, t = [header_line], castchain.seed(sid), 0, 0, 0.0
        for text, needle in session_output(rnd, pod, needle):
            t += 0.5
            block = (json.dumps([round(t, 6), "o", text]) + "\n").encode()
            chain_line, head = castchain.seal(head, block, t)
            data += [block, chain_line]
            blocks += 1
            total += len(block)
            if total >= size and not needle:
                break
        cast = os.path.join(spool, sid + ".cast")
        body = b"".join(data)
        with open(cast, "wb") as f:
            f.write(body)
        meta.update(state="exited", exit_code=0, end_ns=(ms + int(t * 1000)) * 1000000,
                    bytes_out=total)
        chain = {"version": 1, "head": head.hex(), "blocks": blocks, "size": len(body),
                 "header_sha256": hashlib.sha256(header_line).hexdigest()}
        with open(os.path.join(spool, sid + ".json.tmp"), "w") as f:
            json.dump({"manifest_version": 1, "session": meta, "commands": [], "chain": chain}, f)
            f.write("\n")
        os.rename(os.path.join(spool, sid + ".json.tmp"), os.path.join(spool, sid + ".json"))
    return wanted


def run(cmd, env, out=subprocess.DEVNULL):
    """Wall and CPU seconds of one command (which must succeed)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit("search_bench: %s failed: %s" % (" ".join(cmd), p.stderr.decode()[-2000:]))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 4), "cpu_s": round(cpu, 4)}


def hits(bin_, store, env, extra=()):
    p = subprocess.run([bin_ + "/ttyaudit", "--store", store, "search", *extra, *QUERY], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True)
    return p.stdout.count(b"\n")


def measure_store(a, store, sessions, env, cache):
    """Reindex (the segments), the first catalog search with no cache, repeats, brute force."""
    out = {"sessions": sessions}
    shutil.rmtree(cache, ignore_errors=True)
    out["reindex"] = run([a.bin + "/ttyaudit", "--store", store, "reindex", "-j", "8"], env)
    shutil.rmtree(cache, ignore_errors=True)
    search = [a.bin + "/ttyaudit", "--store", store, "search", *QUERY]
    out["first"] = run(search, env)
    out["repeat"] = [run(search, env) for _ in range(a.rounds)]
    out["brute_force"] = run([a.bin + "/ttyaudit", "--store", store, "search", "--scan", *QUERY], env)
    out["hits"] = hits(a.bin, store, env)
    brute_hits = hits(a.bin, store, env, ["--scan"])
    if out["hits"] != brute_hits:
        sys.exit("search_bench: %s: catalog found %d, brute force %d" % (store, out["hits"], brute_hits))
    print("search_bench: %s: %d sessions, %d hits: first %.3f s, repeat %.3f s, brute force %.3f s"
          % (store, sessions, out["hits"], out["first"]["wall_s"],
             min(r["wall_s"] for r in out["repeat"]), out["brute_force"]["wall_s"]), flush=True)
    return out


def measure_text(a, env, cache):
    """--text over sessions with real screen text: written to a spool as a recorder would, sealed
    by the uploader (which runs each through the terminal emulator and writes the screen
    segments), then the first search with no cache, repeats, and the brute force (--scan: each
    session's screen text object), which must find the same sessions as the generator put the
    phrase in."""
    spool = os.path.join(a.work, "spool-text")
    archive = os.path.join(a.work, "archive-text")
    t = time.perf_counter()
    wanted = write_text_sessions(spool, a.text_sessions, a.text_bytes, 5)
    print("search_bench: wrote %d sessions of %d bytes of output in %.1f s"
          % (a.text_sessions, a.text_bytes, time.perf_counter() - t), flush=True)
    cfg = os.path.join(a.work, "text.json")
    with open(cfg, "w") as f:
        json.dump({"spool_dir": spool, "store": "file://" + archive,
                   "log_file": os.path.join(a.work, "log")}, f)
    e = dict(env, TTYAUDIT_CONFIG=cfg)
    store = "file://" + archive
    out = {"sessions": a.text_sessions, "output_bytes_each": a.text_bytes, "query": TEXT_QUERY}
    out["uploader"] = run([a.bin + "/ttyaudit-uploader", "--once", "--jobs", "2"], e)
    shutil.rmtree(cache, ignore_errors=True)
    search = [a.bin + "/ttyaudit", "--store", store, "search", "--text", TEXT_QUERY, "--json"]
    out["first"] = run(search, e)
    out["repeat"] = [run(search, e) for _ in range(a.rounds)]
    out["brute_force"] = run([a.bin + "/ttyaudit", "--store", store, "search", "--scan", "--text",
                              TEXT_QUERY, "--json"], e)
    found = {}
    for name, extra in (("catalog", []), ("brute_force", ["--scan"])):
        p = subprocess.run([a.bin + "/ttyaudit", "--store", store, "search", *extra, "--text",
                            TEXT_QUERY, "--json"], env=e, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, check=True)
        found[name] = sorted(json.loads(l)["id"] for l in p.stdout.splitlines())
    if found["catalog"] != sorted(wanted) or found["brute_force"] != sorted(wanted):
        sys.exit("search_bench: --text found %d (brute force %d), want %d"
                 % (len(found["catalog"]), len(found["brute_force"]), len(wanted)))
    out["hits"] = len(wanted)
    size = 0
    for root, _, files in os.walk(os.path.join(archive, "screen-segments")):
        size += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    out["screen_segment_bytes"] = size
    out["cache_bytes"] = sum(os.path.getsize(os.path.join(cache, f)) for f in os.listdir(cache))
    print("search_bench: --text over %d sessions, %d hits: first %.3f s, repeat %.3f s, brute "
          "force %.3f s" % (a.text_sessions, len(wanted), out["first"]["wall_s"],
                            min(r["wall_s"] for r in out["repeat"]), out["brute_force"]["wall_s"]),
          flush=True)
    return out


def keeping_cost(a, archive, sessions, env, cache, seed):
    """Seconds per sealed session that the catalog costs in an archive of SESSIONS: the
    uploader's (which appends each line to its journal and writes a segment) and the next
    search's sync of the new segment."""
    spool = os.path.join(a.work, "spool-cost-%d" % seed)
    subprocess.run(["bash", "-c", '. "$0"; make_varied_sessions "$1" "$2" node-9 "$3" >/dev/null',
                    a.make_sessions, spool, str(a.cost_batch), str(seed)], check=True)
    cfg = os.path.join(a.work, "cost-%d.json" % seed)
    with open(cfg, "w") as f:
        json.dump({"spool_dir": spool, "store": "file://" + archive, "log_file": os.path.join(a.work, "log")}, f)
    e = dict(env, TTYAUDIT_CONFIG=cfg)
    store = "file://" + archive
    os.chmod(archive, 0o700)  # the uploader refuses an archive others can get into
    search = [a.bin + "/ttyaudit", "--store", store, "search", *QUERY]
    run(search, e)  # the cache is current
    up = run([a.bin + "/ttyaudit-uploader", "--once"], e)
    sync = run(search, e)
    idle = min((run(search, e) for _ in range(a.rounds)), key=lambda r: r["wall_s"])
    n = a.cost_batch
    res = {"archive_sessions": sessions, "batch": n,
           "uploader_s_per_session": round(up["wall_s"] / n, 6),
           "sync_s_per_session": round(max(0.0, sync["wall_s"] - idle["wall_s"]) / n, 6),
           "uploader": up, "search_after_batch": sync, "search_nothing_new": idle}
    print("search_bench: keeping the catalog at %d sessions: uploader %.2f ms, sync %.3f ms per "
          "sealed session" % (sessions, res["uploader_s_per_session"] * 1e3,
                              res["sync_s_per_session"] * 1e3), flush=True)
    return res


def main():
    p = argparse.ArgumentParser()
    for k in ("bin", "work", "endpoint", "bucket", "s3_config", "make_sessions", "out"):
        p.add_argument("--" + k.replace("_", "-"), required=True)
    for k in ("local", "s3", "cost_small", "cost_large", "cost_batch", "rounds", "text_sessions",
              "text_bytes"):
        p.add_argument("--" + k.replace("_", "-"), type=int, required=True)
    a = p.parse_args()
    cache = os.path.join(a.work, "cache")
    env = dict(os.environ, TTYAUDIT_CACHE_DIR=cache, TTYAUDIT_CONFIG=a.s3_config,
               AWS_ACCESS_KEY_ID="S3RVER", AWS_SECRET_ACCESS_KEY="S3RVER",
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    result = {"benchmark": "search", "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "nproc": os.cpu_count(), "query": "search --command 'rm -rf' --json",
              "endpoint": "s3rver (npm, pinned) on loopback"}

    local = os.path.join(a.work, "archive")
    t = time.perf_counter()
    write_entries(local, a.local, 1)
    print("search_bench: wrote %d index entries in %.1f s" % (a.local, time.perf_counter() - t), flush=True)
    result["local"] = measure_store(a, "file://" + local, a.local, env, cache)

    staged = os.path.join(a.work, "s3-staged")
    write_entries(staged, a.s3, 2)
    t = time.perf_counter()
    subprocess.run(["aws", "--endpoint-url", a.endpoint, "s3", "cp", "--recursive", "--quiet",
                    staged + "/index", "s3://%s/bench/index" % a.bucket], env=env, check=True)
    print("search_bench: %d index entries into s3rver in %.1f s" % (a.s3, time.perf_counter() - t), flush=True)
    result["s3"] = measure_store(a, "s3://%s/bench" % a.bucket, a.s3, env, cache)

    result["text"] = measure_text(a, env, cache)

    costs = []
    for n, seed in ((a.cost_small, 3), (a.cost_large, 4)):
        if n == a.local:
            archive = local
        else:
            archive = os.path.join(a.work, "archive-%d" % n)
            write_entries(archive, n, seed)
            subprocess.run([a.bin + "/ttyaudit", "--store", "file://" + archive, "reindex"],
                           env=env, stdout=subprocess.DEVNULL, check=True)
        costs.append(keeping_cost(a, archive, n, env, cache, seed))
    result["keeping_cost"] = costs
    with open(a.out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print("search_bench: wrote " + a.out)


if __name__ == "__main__":
    main()
