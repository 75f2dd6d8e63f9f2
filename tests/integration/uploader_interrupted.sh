#!/usr/bin/env bash
# A session whose recorder died without sealing it (no manifest, no lock, no change for a
# while) is sealed by the uploader as "interrupted", with what was recorded.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/s3rver.sh"

start_s3rver
spool="$T/spool"
read -r dead dead_key < <(make_sessions "$spool" 1 3000 open)
read -r live _ < <(make_sessions "$spool" 1 3000 open)
# -F: flock becomes the sleep, so the pid the test stops at exit is the lock holder itself.
flock -x -F "$spool/$live.cast" sleep 600 &
track_pid $!
wait_for 5 grep -q FLOCK /proc/locks
touch -d '-1 minute' "$spool/$dead.cast" "$spool/$live.cast"
cp "$spool/$dead.cast" "$T/dead.cast"
write_config "$T/config.json" "$spool" "s3://$S3_BUCKET"

TTYAUDIT_CONFIG="$T/config.json" "$BIN/ttyaudit-uploader" --once --interrupted-after 30 ||
  fail "uploader --once failed"
awss3 cp "s3://$S3_BUCKET/$dead_key" "$T/back.cast" >/dev/null
cmp "$T/back.cast" "$T/dead.cast" || fail "interrupted session differs"
awss3 cp "s3://$S3_BUCKET/${dead_key%.cast}.json" "$T/m.json" >/dev/null
assert_eq "$(jq -r .session.state "$T/m.json")" "interrupted" "manifest state"
[ -f "$spool/$live.cast" ] || fail "a session whose recorder holds its lock was sealed"
[ ! -e "$spool/$dead.cast" ] || fail "interrupted session still in the spool"
ok "dead recorder's session sealed as interrupted; the locked one left recording"
