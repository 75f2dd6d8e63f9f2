#!/usr/bin/env bash
# The uploader as systemd runs it: READY=1 once it works, --status shows the backlog, a spool
# over its cap is reported loudly, and SIGTERM in the middle of a 40 MiB upload finishes that
# object, says STOPPING=1 and exits 0; the rest of the session follows on the next start.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/s3rver.sh"

start_s3rver
one_big_session $((40 << 20))
write_config "$T/config.json" "$spool" "s3://$S3_BUCKET/dm"
# A cap far below the spool's size.
jq '.spool_max_bytes = 1048576' "$T/config.json" >"$T/c2" && mv "$T/c2" "$T/config.json"
export TTYAUDIT_CONFIG="$T/config.json"

status=$("$BIN/ttyaudit-uploader" --status)
echo "$status"
assert_contains "$status" "1 session(s)" "status counts the session"
assert_contains "$status" "OVER CAP" "status flags the cap"
assert_contains "$status" "$id  sealed" "status lists the sealed session"
[ "$("$BIN/ttyaudit-uploader" --status --json | jq -r '.sessions[0].id')" = "$id" ] || fail "--status --json"

# systemd's notify socket, played by a datagram listener.
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True: out.write(s.recv(4096).decode() + "\n")
' "$T/notify.sock" "$T/notify.log" &
track_pid $!
wait_for 5 test -S "$T/notify.sock"

NOTIFY_SOCKET="$T/notify.sock" "$BIN/ttyaudit-uploader" --jobs 1 2>"$T/uploader.log" &
up=$!
track_pid $up
wait_for 10 grep -q "READY=1" "$T/notify.log"
state="$spool/$id.upstate"
for _ in $(seq 3000); do
  [ -f "$state" ] && grep -q '"parts":\[\[1,' "$state" && break
  sleep 0.01
done
grep -q '"phase":"cast"' "$state" || fail "not mid-upload when SIGTERM was to be sent"
kill -TERM "$up"
wait "$up" || fail "uploader exited non-zero after SIGTERM"
grep -q "STOPPING=1" "$T/notify.log" || fail "no STOPPING=1"
grep -q "over spool_max_bytes" "$T/uploader.log" || fail "no warning about the spool cap"
# The object in flight was finished; what came after it was left for the next start.
awss3 cp "s3://$S3_BUCKET/dm/$key" "$T/back.cast" >/dev/null
cmp "$T/back.cast" "$T/orig.cast" || fail "the recording in flight was not finished"
grep -q '"phase":"manifest"' "$state" || fail "state after SIGTERM: $(cat "$state")"

"$BIN/ttyaudit-uploader" --once 2>>"$T/uploader.log" || fail "next start failed"
assert_eq "$(bucket_keys dm/ | grep -Evc '^dm/(index|screen)-segments/')" "7" "recording, manifest, signature, screen text, keyframes, index, node key"
assert_eq "$(bucket_keys dm/index-segments/ | wc -l)" "1" "the session's index segment"
[ ! -e "$spool/$id.cast" ] || fail "spool not emptied"
ok "READY/STOPPING, status, cap warning, SIGTERM finished the object in flight"
