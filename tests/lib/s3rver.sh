# Helpers for the uploader's integration tests: a private s3rver, the aws CLI pointed at it,
# and spool sessions written by hand in the recorder's format (record/spool_writer.h).
# Source after common.sh.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
S3RVER_BIN="$ROOT/node_modules/.bin/s3rver"
S3_BUCKET=tb
S3_PORT=0
S3RVER_PID=

# start_s3rver [PORT]: starts s3rver on 127.0.0.1 (a free port, or PORT) with bucket $S3_BUCKET
# and its data under $T/s3data; sets S3_PORT, S3_ENDPOINT, S3RVER_PID. With S3RVER_TLS=1 it
# serves HTTPS with a certificate for 127.0.0.1 signed by a fresh CA in $T/ca.pem.
start_s3rver() {
  [ -x "$S3RVER_BIN" ] || fail "s3rver is not installed (make deps)"
  local port=${1:-0} log="$T/s3rver.$(date +%s%N).log" tls=() scheme=http
  mkdir -p "$T/s3data"
  if [ -n "${S3RVER_TLS:-}" ]; then
    [ -f "$T/server.pem" ] || make_tls_cert
    tls=(--key "$T/server.key" --cert "$T/server.pem")
    scheme=https
  fi
  # s3rver makes ListObjectsV2 continuation tokens with DES: OpenSSL 3's legacy provider.
  NODE_OPTIONS=--openssl-legacy-provider "$S3RVER_BIN" -d "$T/s3data" -a 127.0.0.1 -p "$port" \
    "${tls[@]}" --configure-bucket "$S3_BUCKET" >"$log" 2>&1 &
  S3RVER_PID=$!
  track_pid "$S3RVER_PID"
  wait_for 30 grep -q "listening on 127.0.0.1:" "$log"
  S3_PORT=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$log" | head -n1)
  S3_ENDPOINT="$scheme://127.0.0.1:$S3_PORT"
}

# make_tls_cert: a CA ($T/ca.pem) and a server certificate for IP 127.0.0.1 signed by it.
make_tls_cert() {
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=ttyaudit-test-ca \
    -keyout "$T/ca.key" -out "$T/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$T/server.key" \
    -out "$T/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\n' >"$T/san.ext"
  openssl x509 -req -in "$T/server.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
    -days 2 -extfile "$T/san.ext" -out "$T/server.pem" 2>/dev/null
}

# stop_s3rver: stops exactly the s3rver started last.
stop_s3rver() {
  kill -TERM "$S3RVER_PID" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$S3RVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$S3RVER_PID" 2>/dev/null || true
  wait "$S3RVER_PID" 2>/dev/null || true
}

# The aws CLI against the private s3rver (s3rver's fixed credentials).
awss3() {
  AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1 \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    aws --endpoint-url "$S3_ENDPOINT" s3 "$@"
}
awss3api() {
  AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1 \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    aws --endpoint-url "$S3_ENDPOINT" s3api "$@"
}
# Every key in the bucket under PREFIX, one a line, sorted.
bucket_keys() {
  awss3api list-objects-v2 --bucket "$S3_BUCKET" --prefix "${1:-}" --query 'Contents[].Key' \
    --output text | tr '\t' '\n' | grep -v '^None$' | sort || true
}

# part_requests: "N UPLOAD_ID" for each UploadPart that s3rver answered 200, in order (s3rver
# logs each response, the start of the line cut: "info: ...KEY?partNumber=N&uploadId=ID 200 ...").
part_requests() {
  sed 's/\x1b\[[0-9;]*m//g' "$T"/s3rver.*.log |
    sed -n 's/.*[?&]partNumber=\([0-9]*\)&uploadId=\([^ &]*\) 200 .*/\1 \2/p'
}

# write_config FILE SPOOL STORE [LIVE_INTERVAL]: a ttyaudit config for the uploader.
write_config() {
  cat >"$1" <<JSON
{"spool_dir": "$2", "archive_dir": "$T/archive", "store": "$3",
 "live_interval_s": ${4:-2},
 "s3": {"endpoint": "$S3_ENDPOINT", "region": "us-east-1", "path_style": true,
        "access_key_id": "S3RVER", "secret_access_key": "S3RVER"}}
JSON
}

# one_big_session BYTES: one sealed session of BYTES in spool=$T/spool; sets spool, id and key
# (as make_sessions prints them) and keeps a copy of the .cast at $T/orig.cast to compare with.
one_big_session() {
  spool="$T/spool"
  read -r id key < <(make_sessions "$spool" 1 "$1" sealed)
  cp "$spool/$id.cast" "$T/orig.cast"
}

# make_sessions SPOOL COUNT BYTES [sealed|open]: writes COUNT sessions of about BYTES bytes of
# events each into SPOOL, as the recorder would (header line with a "ttyaudit" object, event
# lines, and for sealed ones the manifest). Prints "ID KEY" per session, KEY being the sealed
# object's key under the store root.
# Events go in chained blocks of about 4 KiB (tests/lib/castchain.py).
make_sessions() {
  PYTHONPATH="$ROOT/tests/lib" python3 - "$@" <<'PY'
import castchain, json, os, random, sys, time
spool, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sealed = (sys.argv[4] if len(sys.argv) > 4 else "sealed") == "sealed"
os.makedirs(spool, mode=0o700, exist_ok=True)
def uuid7(ms):
    r = random.getrandbits(74)
    v = (ms << 80) | (0x7 << 76) | ((r >> 62) << 64) | (0b10 << 62) | (r & ((1 << 62) - 1))
    h = "%032x" % v
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])
now_ms = int(time.time() * 1000)
for i in range(count):
    ms = now_ms - (count - i)
    sid = uuid7(ms)
    meta = {"id": sid, "source": "runtime", "node": "node-1", "user": "root", "uid": 0,
            "argv": ["/bin/sh"], "runtime": "kubernetes-cri", "container_id": "c0ffee%04d" % i,
            "namespace": "team-a", "pod": "web-%d" % (i % 7), "container": "app",
            "image": "busybox", "width": 80, "height": 24, "start_ns": ms * 1000000,
            "state": "recording"}
    header = json.dumps({"version": 2, "width": 80, "height": 24, "timestamp": ms // 1000,
                         "ttyaudit": meta})
    lines, total, t = [(header.ljust(len(header) + 256) + "\n").encode()], 0, 0.0
    rnd = random.Random(i)
    head, block, n = castchain.seed(sid), b"", 0
    while total < size:
        t += 0.01
        n += 1
        text = "line %d of %s: %s\r\n" % (n, sid, "x" * rnd.randint(10, 200))
        ev = (json.dumps([round(t, 6), "o", text]) + "\n").encode()
        block += ev
        total += len(ev)
        if len(block) >= 4096 or total >= size:
            chain_line, head = castchain.seal(head, block, t)
            lines.append(block + chain_line)
            block = b""
    cast = os.path.join(spool, sid + ".cast")
    with open(cast, "wb") as f:
        f.writelines(lines)
    if sealed:
        meta.update(state="exited", exit_code=0, end_ns=(ms + 5000) * 1000000)
        with open(os.path.join(spool, sid + ".json.tmp"), "w") as f:
            json.dump({"manifest_version": 1, "session": meta, "commands": [],
                       "chain": castchain.manifest_chain(cast)}, f)
            f.write("\n")
        os.rename(os.path.join(spool, sid + ".json.tmp"), os.path.join(spool, sid + ".json"))
    day = time.strftime("%Y-%m-%d", time.gmtime(ms / 1000))
    print(sid, "sessions/date=%s/team-a/web-%d/app/%s.cast" % (day, i % 7, sid))
PY
}
