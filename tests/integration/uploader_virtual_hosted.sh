# Virtual-hosted-style S3 (path_style false: the bucket in the host name): sessions go up and
# come back through s3rver's subdomain-style buckets. The bucket's host name resolves through a
# hosts file bind-mounted in a private mount namespace (unshare -m): the machine's own
# /etc/hosts is never touched.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/s3rver.sh"
command -v unshare >/dev/null || skip "unshare (util-linux) is not installed"
[ -x "$S3RVER_BIN" ] || skip "s3rver is not installed (make deps)"
mkdir -p "$T/s3data"
NODE_OPTIONS=--openssl-legacy-provider "$S3RVER_BIN" -d "$T/s3data" -a 127.0.0.1 -p 0 \
  --service-endpoint localhost --configure-bucket "$S3_BUCKET" >"$T/s3rver.log" 2>&1 &
track_pid $!
wait_for 30 grep -q "listening on 127.0.0.1:" "$T/s3rver.log"
S3_PORT=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$T/s3rver.log" | head -n1)
S3_ENDPOINT="http://127.0.0.1:$S3_PORT"

printf '127.0.0.1 localhost s3.localhost %s.s3.localhost\n' "$S3_BUCKET" >"$T/hosts"
echo 'hosts: files' >"$T/nsswitch.conf"  # no DNS queries (there is no network) for AAAA
export TTYAUDIT_CONFIG="$T/config.json"
cat >"$TTYAUDIT_CONFIG" <<JSON
{"spool_dir": "$T/spool", "archive_dir": "$T/archive", "store": "s3://$S3_BUCKET/vh",
 "s3": {"endpoint": "http://s3.localhost:$S3_PORT", "path_style": false,
        "access_key_id": "S3RVER", "secret_access_key": "S3RVER"}}
JSON
# in_ns CMD...: CMD where $S3_BUCKET.s3.localhost resolves, and nowhere else.
in_ns() {
  unshare -m sh -c 'mount --bind "$0/hosts" /etc/hosts && mount --bind "$0/nsswitch.conf" /etc/nsswitch.conf && exec "$@"' "$T" "$@"
}
in_ns getent hosts "$S3_BUCKET.s3.localhost" >/dev/null || skip "cannot bind-mount a hosts file here"

"$BIN/ttyaudit" rec -q -- sh -c 'echo virtual-hosted-session' </dev/null >/dev/null
id=$(ls "$T/spool" | sed -n 's/\.cast$//p')
"$BIN/ttyaudit" cat "$id" >"$T/recorded"
in_ns "$BIN/ttyaudit-uploader" --once
key=$(in_ns "$BIN/ttyaudit" search --json | jq -r .key)
[[ $key == vh/sessions/date=*/"$id".cast ]] || fail "key $key"
# The object is where path-style addressing finds it too: one bucket, two ways to name it.
assert_contains "$(bucket_keys vh/sessions/)" "$key" "object in the bucket"
in_ns "$BIN/ttyaudit" cat "$id" >"$T/fetched"
cmp "$T/recorded" "$T/fetched" || fail "virtual-hosted read differs from the recording"
grep -q "virtual-hosted-session" "$T/fetched" || fail "output missing"
ok "virtual-hosted-style upload, listing and ranged reads"
