#!/usr/bin/env bash
# `ttyaudit watch ID` on the node follows a running session from its spool: new output shows
# within 1 s (measured, each round), and watch exits with the session's status when it ends,
# having shown exactly what `cat` shows.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rec.sh"

rec_in_tmux 80 24 sh -c "$(live_marker_script 5 5)"
tmx_wait_text rec session-started 10
id=$(only_session_id)
assert_eq "$("$TA" search --live --json | jq -r .id)" "$id" "search --live in the spool"

"$TA" watch "${id:0:13}" >"$T/watch.out" 2>"$T/watch.err" &
watcher=$!
track_pid "$watcher"
wait_for 10 grep -q session-started "$T/watch.out" ||
  fail "watch did not show the output so far: $(cat "$T/watch.err")"

measure_live_delays 5 1.0 "$T/watch.out" "$T/watch.err" "watch from the spool"
kill -0 "$watcher" 2>/dev/null || fail "watch returned while the session runs: $(cat "$T/watch.err")"

touch "$T/end"
assert_eq "$(wait_rc)" 5 "rec's exit status"
wait_for 10 sh -c "! kill -0 $watcher 2>/dev/null" || fail "watch did not return when the session ended"
rc=0
wait "$watcher" || rc=$?
assert_eq "$rc" 5 "watch's exit status (the session's): $(cat "$T/watch.err")"
cmp <("$TA" cat "$id") "$T/watch.out" || fail "watch output differs from cat's"
ok "watch follows a running session from the spool (worst delay $worst s) to its status"
