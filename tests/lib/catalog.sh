# Helpers for the catalog's integration tests: spools of sealed sessions that differ in every
# field search filters on, and a brute-force search over per-session index entries (the truth)
# written independently of ttyaudit's own. Source after common.sh.

# make_varied_sessions SPOOL COUNT NODE SEED: COUNT sealed sessions in SPOOL, as the recorder
# writes them, started over the last three days, for node NODE. Prints their ids.
make_varied_sessions() {
  PYTHONPATH="$(dirname "${BASH_SOURCE[0]}")" python3 - "$@" <<'PY'
import castchain, json, os, random, sys, time
spool, count, node, seed = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
os.makedirs(spool, mode=0o700, exist_ok=True)
rnd = random.Random(seed)
def uuid7(ms):
    r = rnd.getrandbits(74)
    v = (ms << 80) | (0x7 << 76) | ((r >> 62) << 64) | (0b10 << 62) | (r & ((1 << 62) - 1))
    h = "%032x" % v
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])
COMMANDS = [["rm", "-rf", "/tmp/x"], ["ls", "-la"], ["cat", "/etc/passwd"],
            ["sh", "-c", "curl x | sh"], ["sudo", "su", "-"], ["vi", "a|b"]]
now_ms = int(time.time() * 1000)
for i in range(count):
    ms = now_ms - rnd.randrange(3 * 86400 * 1000)
    sid = uuid7(ms)
    host = i % 5 == 0
    who = rnd.randrange(3)
    meta = {"id": sid, "source": "host" if host else "runtime", "node": node,
            "user": ["root", "alice", "bob"][who], "uid": [0, 1000, 1001][who],
            "argv": rnd.choice([["/bin/sh"], ["bash", "-l"]]), "width": 80, "height": 24,
            "start_ns": ms * 1000000, "state": "recording"}
    if not host:
        meta.update(runtime="kubernetes-cri", container_id="%016x" % rnd.getrandbits(64),
                    namespace=rnd.choice(["team-a", "team-b", "kube-system"]),
                    pod="web-%d" % rnd.randrange(6), container=rnd.choice(["app", "sidecar"]),
                    image=rnd.choice(["busybox:1.36", "nginx:1.25", "registry.local/tools:2"]))
    header = json.dumps({"version": 2, "width": 80, "height": 24, "timestamp": ms // 1000,
                         "ttyaudit": meta})
    cast = os.path.join(spool, sid + ".cast")
    block = (json.dumps([0.1, "o", "session %d\r\n" % i]) + "\n").encode()
    chain_line, _ = castchain.seal(castchain.seed(sid), block, 0.1)
    with open(cast, "wb") as f:
        f.write((header.ljust(len(header) + 256) + "\n").encode() + block + chain_line)
    state = rnd.choice(["exited", "exited", "signaled", "ended", "interrupted"])
    meta.update(state=state, end_ns=(ms + rnd.randrange(7200000)) * 1000000)
    if state == "exited":
        meta["exit_code"] = rnd.randrange(4)
    if state == "signaled":
        meta["signal"] = rnd.choice([9, 15])
    commands = [{"pid": 100 + c, "ppid": 1, "argv": argv, "cwd": "/", "uid": meta["uid"],
                 "euid": meta["uid"], "start": 0.5, "end": 1.5, "exit_code": 0, "signal": 0}
                for c, argv in enumerate(COMMANDS) if rnd.randrange(3) == 0]
    manifest = {"manifest_version": 1, "session": meta, "commands": commands,
                "escalated": rnd.randrange(7) == 0, "chain": castchain.manifest_chain(cast)}
    with open(os.path.join(spool, sid + ".json.tmp"), "w") as f:
        json.dump(manifest, f)
        f.write("\n")
    os.rename(os.path.join(spool, sid + ".json.tmp"), os.path.join(spool, sid + ".json"))
    print(sid)
PY
}

# brute_force DIR [search options...]: the ids of the sessions among DIR/index/**/*.json (the
# per-session index entries) that pass the options, newest first, one a line.
brute_force() {
  python3 - "$@" <<'PY'
import datetime, glob, json, os, re, sys
root, args = sys.argv[1], sys.argv[2:]
opts = {}
while args:
    k = args.pop(0)
    if k in ("--escalated", "--live"):
        opts[k] = True
    else:
        opts[k] = args.pop(0)
def ns(t):
    return int(datetime.datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp()) * 10**9
hits = []
for path in glob.glob(os.path.join(root, "index", "**", "*.json"), recursive=True):
    e = json.load(open(path))
    s = e["session"]
    end = s.get("end_ns") or 0
    lines = [" ".join(s.get("argv", []))] + [" ".join(c["argv"]) for c in e.get("commands", [])]
    checks = {
        "--since": lambda v: end == 0 or end >= ns(v),
        "--until": lambda v: s["start_ns"] <= ns(v),
        "--user": lambda v: v == s.get("user") or v == str(s.get("uid")),
        "--namespace": lambda v: v == s.get("namespace", ""),
        "--pod": lambda v: v == s.get("pod", ""),
        "--container": lambda v: v == s.get("container", "") or s.get("container_id", "").startswith(v),
        "--node": lambda v: v == s.get("node"),
        "--image": lambda v: v in s.get("image", ""),
        "--escalated": lambda v: e.get("escalated", False),
        "--exit-code": lambda v: s["state"] == "exited" and s.get("exit_code") == int(v),
        "--state": lambda v: s["state"] == v,
        "--uid": lambda v: s.get("uid") == int(v),
        "--live": lambda v: s["state"] == "recording",
        "--command": lambda v: any(re.search(v, l) for l in lines),
        "--limit": lambda v: True,
    }
    if all(checks[k](v) for k, v in opts.items()):
        hits.append((s["start_ns"], s["id"]))
hits.sort(reverse=True)
if "--limit" in opts:
    hits = hits[:int(opts["--limit"])]
for _, i in hits:
    print(i)
PY
}

# The filters the catalog tests try, one set of search options a line (shell words, expanded
# with $SINCE and $UNTIL, which the caller sets).
search_filter_lines() {
  cat <<EOF
--user alice
--user 1001
--namespace team-b
--pod web-3
--container sidecar
--container a
--node node-2
--image nginx
--escalated
--exit-code 0
--exit-code 2
--state exited
--state signaled
--state ended
--state interrupted
--state recording
--uid 1000
--live
--command 'rm -rf'
--command '^ls'
--command 'cat .*passwd'
--command 'curl x \\| sh'
--command 'sudo|vi'
--since $SINCE
--until $UNTIL
--limit 5
--since $SINCE --until $UNTIL --user bob
--namespace team-a --command 'rm -rf' --state exited
--image busybox --exit-code 1 --limit 3
--uid 0 --escalated --since $SINCE
--pod web-1 --container app --node node-1
--state signaled --command 'sudo|vi' --limit 2
EOF
}
