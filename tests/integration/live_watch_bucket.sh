#!/usr/bin/env bash
# `ttyaudit watch ID` on a machine that reads only the bucket follows a running session from the
# live chunks its node's uploader ships: new output shows within 3 s (measured, each round), the
# session is listed by `search --live` from the bucket, and watch exits with the session's
# status once it is sealed, having shown exactly what `cat` shows.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/s3rver.sh"
. "$(dirname "$0")/../lib/rec.sh"

start_s3rver
# The node: `ttyaudit rec` into its spool, its uploader shipping to the bucket (live chunks
# every 2 s, the default).
write_config "$TTYAUDIT_CONFIG" "$SPOOL" "s3://$S3_BUCKET/p"
"$BIN/ttyaudit-uploader" &
track_pid $!
# Another machine: the same bucket, and a spool that has never seen the session.
write_config "$T/reader.json" "$T/reader-spool" "s3://$S3_BUCKET/p"
reader() { TTYAUDIT_CONFIG="$T/reader.json" "$TA" "$@"; }

rec_in_tmux 80 24 sh -c "$(live_marker_script 3 7)"
tmx_wait_text rec session-started 10
id=$(only_session_id)
has_chunks() { [ -n "$(bucket_keys "p/live/$id/")" ]; }
wait_for 10 has_chunks

# Before: the reader's search lists the running session from its live chunks.
live=$(reader search --live --json)
assert_eq "$(jq -r .id <<<"$live")" "$id" "search --live from the bucket"
assert_eq "$(jq -r .state <<<"$live")" "recording" "state of the running session"
assert_eq "$(reader search --state recording --json | jq -r .id)" "$id" "search --state recording"
assert_eq "$(reader search --state exited --json | jq -r .id)" "" "search --state exited"

reader watch "$id" >"$T/watch.out" 2>"$T/watch.err" &
watcher=$!
track_pid "$watcher"
wait_for 10 grep -q session-started "$T/watch.out" ||
  fail "watch did not show the output so far: $(cat "$T/watch.err")"

measure_live_delays 3 3.0 "$T/watch.out" "$T/watch.err" "watch from the bucket"
kill -0 "$watcher" 2>/dev/null || fail "watch returned while the session runs: $(cat "$T/watch.err")"

touch "$T/end"
assert_eq "$(wait_rc)" 7 "rec's exit status"
wait_for 30 sh -c "! kill -0 $watcher 2>/dev/null" || fail "watch did not return once the session was sealed"
rc=0
wait "$watcher" || rc=$?
assert_eq "$rc" 7 "watch's exit status (the session's): $(cat "$T/watch.err")"
grep -q last-line "$T/watch.out" || fail "watch lost the session's last output"
# What watch showed from chunks and the sealed rest is the session, byte for byte.
cmp <(reader cat "$id") "$T/watch.out" || fail "watch output differs from cat's"
[ -s "$T/watch.err" ] && fail "watch warned: $(cat "$T/watch.err")"
assert_eq "$(reader search --live --json)" "" "search --live once the session is sealed"
ok "watch from the bucket alone follows a running session (worst delay $worst s) to its status"
