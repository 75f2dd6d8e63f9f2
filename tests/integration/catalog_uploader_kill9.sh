#!/usr/bin/env bash
# An uploader killed with SIGKILL after it sealed sessions into the bucket and before it wrote
# their index segment loses nothing from search: the next uploader writes the segment, and
# each session is found once.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/s3rver.sh"
. "$(dirname "$0")/../lib/catalog.sh"
start_s3rver
export TTYAUDIT_CACHE_DIR="$T/cache"
make_varied_sessions "$T/spool" 40 node-1 7 | sort >"$T/ids"
write_config "$T/config.json" "$T/spool" "s3://$S3_BUCKET/k"
export TTYAUDIT_CONFIG="$T/config.json"
"$BIN/ttyaudit-uploader" 2>"$T/up.log" &
up=$!
track_pid $up
# Every session sealed into the bucket (index entries written, spool emptied): the segment is
# not due for a minute yet.
spool_sealed() { [ -z "$(find "$T/spool" -name '*.cast')" ]; }
wait_for 60 spool_sealed
kill -KILL $up
wait $up 2>/dev/null || true
assert_eq "$(bucket_keys k/index/ | wc -l)" 40 "index entries in the bucket"
assert_eq "$(bucket_keys k/index-segments/)" "" "no segment before the kill"
assert_eq "$(wc -l <"$T/spool/index-segment.journal")" 40 "the sessions' lines wait in the journal"
assert_eq "$("$BIN/ttyaudit" --store "s3://$S3_BUCKET/k" search --json | wc -l)" 0 "not searchable yet"

"$BIN/ttyaudit-uploader" --once 2>>"$T/up.log" || fail "the next uploader failed"
assert_eq "$(bucket_keys k/index-segments/ | wc -l)" 1 "one segment"
[ ! -e "$T/spool/index-segment.journal" ] || fail "journal left after its segment landed"
found=$("$BIN/ttyaudit" --store "s3://$S3_BUCKET/k" search --json | jq -r .id | sort)
assert_eq "$found" "$(cat "$T/ids")" "every session found once after the restart"
ok "40 sessions sealed before a kill -9 found once each after the next uploader"
