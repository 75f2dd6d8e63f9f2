"""Measures ttyaudit-uploader against `aws s3 cp --recursive`, and its live delay (see uploader.sh)."""
import argparse, fcntl, json, os, resource, shutil, statistics, subprocess, threading, time

import botocore.config
import botocore.session


def timed(cmd, env):
    """Runs cmd; returns (wall seconds, CPU seconds of it and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def s3_client(endpoint):
    return botocore.session.get_session().create_client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="S3RVER",
        aws_secret_access_key="S3RVER",
        config=botocore.config.Config(s3={"addressing_style": "path"}))


def list_keys(s3, bucket, prefix):
    keys, token = [], None
    while True:
        kw = {"Bucket": bucket, "Prefix": prefix}
        if token:
            kw["ContinuationToken"] = token
        page = s3.list_objects_v2(**kw)
        keys += [o["Key"] for o in page.get("Contents", [])]
        token = page.get("NextContinuationToken")
        if not page.get("IsTruncated"):
            return keys


def count_keys(s3, bucket, prefix):
    return len(list_keys(s3, bucket, prefix))


def drain(a, s3):
    files = sorted(os.listdir(a.template))
    total = sum(os.path.getsize(os.path.join(a.template, f)) for f in files)
    env_up = dict(os.environ, TTYAUDIT_CONFIG=a.config)
    env_aws = dict(os.environ, AWS_ACCESS_KEY_ID="S3RVER", AWS_SECRET_ACCESS_KEY="S3RVER",
                   AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null",
                   AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    spool = json.load(open(a.config))["spool_dir"]
    rounds = []
    for r in range(a.rounds):
        shutil.rmtree(spool, ignore_errors=True)
        shutil.copytree(a.template, spool)
        up = timed([a.uploader, "--once", "--jobs", str(a.jobs)], env_up)
        left = [f for f in os.listdir(spool) if f.endswith((".cast", ".json"))]
        assert not left, "uploader left %d files" % len(left)
        src = os.path.join(a.work, "awsspool")
        shutil.rmtree(src, ignore_errors=True)
        shutil.copytree(a.template, src)
        aws = timed(["aws", "--endpoint-url", a.endpoint, "s3", "cp", "--recursive", "--quiet",
                     src, "s3://%s/aws-%d/" % (a.bucket, r)], env_aws)
        assert count_keys(s3, a.bucket, "aws-%d/" % r) == len(files)
        rounds.append({"uploader_wall_s": round(up[0], 3), "uploader_cpu_s": round(up[1], 3),
                       "aws_wall_s": round(aws[0], 3), "aws_cpu_s": round(aws[1], 3)})
        print("round %d: uploader %.2f s wall %.2f s CPU; aws s3 cp %.2f s wall %.2f s CPU"
              % (r + 1, up[0], up[1], aws[0], aws[1]), flush=True)
    # Every session is in the bucket, and what the uploader writes for it besides (its manifest,
    # signature, screen text, keyframes, index entry and segment lines) is counted, not assumed.
    sessions = len([f for f in files if f.endswith(".cast")])
    up_keys = list_keys(s3, a.bucket, "up/")
    assert len([k for k in up_keys if k.startswith("up/sessions/") and k.endswith(".cast")]) == sessions
    best = lambda k: min(x[k] for x in rounds)
    return {
        "sessions": sessions, "files": len(files), "bytes": total, "jobs": a.jobs,
        "objects_per_session": {"ttyaudit-uploader": round(len(up_keys) / sessions, 2),
                                "aws s3 cp": round(len(files) / sessions, 2)},
        "objects": {"ttyaudit-uploader": len(up_keys), "aws s3 cp": len(files)},
        "rounds": rounds,
        "best": {k: best(k) for k in rounds[0]},
        "wall_ratio_uploader_over_aws": round(best("uploader_wall_s") / best("aws_wall_s"), 3),
        "cpu_ratio_uploader_over_aws": round(best("uploader_cpu_s") / best("aws_cpu_s"), 3),
        # Per object written: the uploader writes several objects per session to the CLI's two.
        "wall_per_object_ratio_uploader_over_aws": round(
            (best("uploader_wall_s") / len(up_keys)) / (best("aws_wall_s") / len(files)), 3),
    }


def live_delay(a, s3):
    """A session records a marker line every 0.2 s; a poller reads the live chunks."""
    spool = json.load(open(a.config))["spool_dir"]
    shutil.rmtree(spool, ignore_errors=True)
    os.makedirs(spool)
    os.chmod(spool, 0o700)  # the uploader refuses a spool that others can read or write
    # One open session: the template's first recording without its manifest.
    first = sorted(f for f in os.listdir(a.template) if f.endswith(".cast"))[0]
    sid = first[:-5]
    path = os.path.join(spool, first)
    shutil.copy(os.path.join(a.template, first), path)
    f = open(path, "a")
    fcntl.flock(f, fcntl.LOCK_EX)  # as a live recorder holds it
    cfg = json.load(open(a.config))
    cfg.pop("live_interval_s", None)  # the default interval
    live_cfg = os.path.join(a.work, "live.json")
    json.dump(cfg, open(live_cfg, "w"))
    proc = subprocess.Popen([a.uploader], env=dict(os.environ, TTYAUDIT_CONFIG=live_cfg),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    written, seen, stop = {}, {}, threading.Event()

    def poll():
        fetched = set()
        prefix = "up/live/%s/" % sid
        while not stop.is_set():
            try:
                keys = [o["Key"] for o in s3.list_objects_v2(
                    Bucket=a.bucket, Prefix=prefix).get("Contents", [])]
                for k in keys:
                    if k in fetched:
                        continue
                    body = s3.get_object(Bucket=a.bucket, Key=k)["Body"].read().decode()
                    now = time.time()
                    fetched.add(k)
                    for line in body.splitlines():
                        if "bench-marker-" in line:
                            m = line.split("bench-marker-")[1].split("\\")[0]
                            seen.setdefault(m, now)
            except Exception:
                pass
            time.sleep(0.05)

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(1)
    t_end = time.time() + a.live_seconds
    n = 0
    while time.time() < t_end:
        marker = "%06d" % n
        f.write(json.dumps([1000.0 + n, "o", "bench-marker-%s\r\n" % marker]) + "\n")
        f.flush()
        written[marker] = time.time()
        n += 1
        time.sleep(0.2)
    time.sleep(a.live_seconds and 8)
    stop.set()
    poller.join()
    proc.terminate()
    proc.wait()
    f.close()
    if len(written) - len(seen) > len(written) // 10:
        raise SystemExit("live delay: only %d of %d markers reached the bucket"
                         % (len(seen), len(written)))
    delays = sorted(seen[m] - written[m] for m in written if m in seen)
    missing = len(written) - len(delays)
    q = statistics.quantiles(delays, n=100)
    return {"markers": len(written), "missing": missing, "interval_s": 2.0,
            "p50_s": round(statistics.median(delays), 3), "p95_s": round(q[94], 3),
            "max_s": round(max(delays), 3)}


def main():
    p = argparse.ArgumentParser()
    for name in ("uploader", "template", "work", "endpoint", "bucket", "config", "out"):
        p.add_argument("--" + name, required=True)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--jobs", type=int, default=10)
    p.add_argument("--live-seconds", type=int, default=40)
    a = p.parse_args()
    s3 = s3_client(a.endpoint)
    result = {"benchmark": "uploader", "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "nproc": os.cpu_count(), "endpoint": "s3rver (npm, pinned) on loopback",
              "drain": drain(a, s3)}
    live = live_delay(a, s3)
    result["live_delay"] = live
    print("live delay: p50 %.2f s, p95 %.2f s, max %.2f s (%d markers, %d missing)"
          % (live["p50_s"], live["p95_s"], live["max_s"], live["markers"], live["missing"]))
    d = result["drain"]
    result["targets"] = {
        "no_slower_than_aws": d["wall_ratio_uploader_over_aws"] <= 1.0,
        "at_most_half_aws_cpu": d["cpu_ratio_uploader_over_aws"] <= 0.5,
        "live_p95_at_most_3s": live["p95_s"] <= 3.0 and live["missing"] == 0,
    }
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as out:
        json.dump(result, out, indent=2)
        out.write("\n")
    print(json.dumps(result["targets"]))


if __name__ == "__main__":
    main()
