#!/usr/bin/env bash
# The embedded default: with no bucket configured, sealed sessions move into the local archive
# under the same keys as in a bucket, and recording sessions stay in the spool.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/s3rver.sh"

spool="$T/spool"
mapfile -t sealed < <(make_sessions "$spool" 4 5000 sealed)
read -r open_id _ < <(make_sessions "$spool" 1 5000 open)
cp -a "$spool" "$T/orig"
cat >"$T/config.json" <<JSON
{"spool_dir": "$spool", "archive_dir": "$T/archive"}
JSON
# Hold the recorder's lock on the open session, as a live recorder does.
# -F: flock becomes the sleep, so the pid the test stops at exit is the lock holder itself.
flock -x -F "$spool/$open_id.cast" sleep 600 &
track_pid $!
wait_for 5 grep -q FLOCK /proc/locks

TTYAUDIT_CONFIG="$T/config.json" "$BIN/ttyaudit-uploader" --once || fail "uploader --once failed"
for s in "${sealed[@]}"; do
  id=${s%% *} key=${s#* }
  day=${key#sessions/date=}; day=${day%%/*}
  cmp "$T/archive/$key" "$T/orig/$id.cast" || fail "$key differs in the archive"
  cmp "$T/archive/${key%.cast}.json" "$T/orig/$id.json" || fail "manifest of $id differs"
  [ -f "$T/archive/index/date=$day/node=node-1/$id.json" ] || fail "no index entry for $id"
  [ ! -e "$spool/$id.cast" ] && [ ! -e "$spool/$id.json" ] || fail "$id still in the spool"
done
[ -f "$spool/$open_id.cast" ] || fail "the recording session left the spool"
[ ! -d "$T/archive/live" ] || fail "live chunks written to a local archive"
assert_eq "$(find "$T/archive" -type f -not -path '*/index-segments/*' -not -path '*/screen-segments/*' | wc -l)" "25" "six files per sealed session (recording, manifest, signature, screen text, keyframes, index entry), the node key"
ok "4 sealed sessions moved into the archive under the bucket's keys; the live one stayed"
