#!/usr/bin/env bash
# The bucket goes away for 30 s in the middle of an upload and comes back: the uploader keeps
# the sessions (and the new ones) in the spool meanwhile, and afterwards every session arrives,
# once, byte for byte.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/s3rver.sh"

start_s3rver
port=$S3_PORT
spool="$T/spool"
make_sessions "$spool" 40 $((4 << 20)) sealed >"$T/sessions.txt"
cp -a "$spool" "$T/orig"
write_config "$T/config.json" "$spool" "s3://$S3_BUCKET/o"

TTYAUDIT_CONFIG="$T/config.json" "$BIN/ttyaudit-uploader" --jobs 2 &
up=$!
track_pid $up
casts() { find "$spool" -name '*.cast' | wc -l; }
# Stop the bucket once a few sessions are through and the rest are on their way.
for _ in $(seq 600); do (($(casts) <= 36)) && break; sleep 0.05; done
stop_s3rver
left=$(casts)
echo "s3rver stopped with $left of 40 sessions still in the spool"
((left > 0)) || fail "everything was uploaded before the outage"

make_sessions "$spool" 5 20000 sealed >>"$T/sessions.txt"
cp -a "$spool"/. "$T/orig/"
sleep 30
kill -0 "$up" || fail "the uploader died during the outage"
(($(casts) >= left)) || fail "sessions left the spool while the bucket was down"
echo "after 30 s down: $(casts) sessions waiting"

start_s3rver "$port"
for _ in $(seq 900); do (($(casts) == 0)) && break; sleep 0.1; done
(($(casts) == 0)) || fail "$(casts) sessions still in the spool 90 s after the bucket came back"
echo "spool drained after the bucket came back"

keys=$(bucket_keys o/ | grep -Ev '^o/(index|screen)-segments/')
assert_eq "$(echo "$keys" | wc -l)" "$((45 * 6 + 1))" "six objects per session, the node key"
assert_eq "$(echo "$keys" | sort -u | wc -l)" "$((45 * 6 + 1))" "no key twice"
awss3 cp --recursive "s3://$S3_BUCKET/o/sessions/" "$T/back/" >/dev/null
while read -r id key; do
  cmp "$T/back/${key#sessions/}" "$T/orig/$id.cast" || fail "$id differs"
done <"$T/sessions.txt"
assert_eq "$(bucket_keys o/live/)" "" "no live chunks"
kill -TERM "$up"
wait "$up" || fail "uploader exited non-zero on SIGTERM"
ok "45 sessions arrived once each across a 30 s outage"
