#!/usr/bin/env bash
# The uploader is killed with SIGKILL in the middle of a multipart upload; restarted, it goes
# on from the parts it had recorded, and the session arrives once, byte for byte.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/s3rver.sh"

start_s3rver
one_big_session $((40 << 20))
write_config "$T/config.json" "$spool" "s3://$S3_BUCKET/k9"

TTYAUDIT_CONFIG="$T/config.json" "$BIN/ttyaudit-uploader" --jobs 1 &
up=$!
track_pid $up
# Kill it once it has recorded at least one part of the multipart upload, not all of them.
state="$spool/$id.upstate"
killed=
for _ in $(seq 3000); do
  if [ -f "$state" ] && grep -q '"phase":"cast"' "$state" && grep -q '"parts":\[\[1,' "$state"; then
    kill -KILL "$up"
    killed=$(cat "$state")
    break
  fi
  sleep 0.01
done
wait "$up" 2>/dev/null || true
[ -n "$killed" ] || fail "never saw the upload mid-multipart"
echo "killed with state: $killed"
grep -q '"phase":"cast"' "$state" || fail "state moved on after SIGKILL"
done_parts=$(grep -o '\[[0-9]*,"' "$state" | wc -l)
((done_parts < 6)) || fail "all parts were done before the kill"
parts_before=$(cat "$T"/s3rver.*.log | grep -c 'partNumber=' || true)

TTYAUDIT_CONFIG="$T/config.json" "$BIN/ttyaudit-uploader" --once || fail "restarted uploader failed"
parts_after=$(cat "$T"/s3rver.*.log | grep -c 'partNumber=' || true)
echo "parts recorded before the kill: $done_parts; part requests before/after: $parts_before/$parts_after"
# The restart sends only the parts not recorded (at most all 6, fewer when it resumed).
(((parts_after - parts_before) <= 6 - done_parts + 1)) || fail "restart re-sent recorded parts"
awss3 cp "s3://$S3_BUCKET/k9/$key" "$T/back.cast" >/dev/null
cmp "$T/back.cast" "$T/orig.cast" || fail "session differs after kill -9 and restart"
assert_eq "$(bucket_keys k9/ | wc -l)" "5" "recording, manifest, signature, index, node key: once"
[ ! -e "$spool/$id.cast" ] && [ ! -e "$state" ] || fail "spool not cleaned up"
ok "resumed after kill -9 with $done_parts of 6 parts recorded; arrived once"
