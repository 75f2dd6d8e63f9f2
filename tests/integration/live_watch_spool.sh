#!/usr/bin/env bash
# `ttyaudit watch ID` on the node follows a running session from its spool: new output shows
# within 1 s (measured, each round), and watch exits with the session's status when it ends,
# having shown exactly what `cat` shows.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rec.sh"

rec_in_tmux 80 24 sh -c "echo session-started; for i in 1 2 3 4 5; do
    while [ ! -s $T/go\$i ]; do sleep 0.02; done; echo \"mark-\$(cat $T/go\$i)\"; done
  while [ ! -e $T/end ]; do sleep 0.02; done; echo last-line; exit 5"
tmx_wait_text rec session-started 10
id=$(only_session_id)
assert_eq "$("$TA" search --live --json | jq -r .id)" "$id" "search --live in the spool"

"$TA" watch "${id:0:13}" >"$T/watch.out" 2>"$T/watch.err" &
watcher=$!
track_pid "$watcher"
wait_for 10 grep -q session-started "$T/watch.out" ||
  fail "watch did not show the output so far: $(cat "$T/watch.err")"

worst=0
for i in 1 2 3 4 5; do
  sleep "0.$((RANDOM % 10))"
  marker="round$i-$RANDOM$RANDOM"
  t0=$(date +%s.%N)
  echo "$marker" >"$T/go$i"
  for _ in $(seq 150); do grep -q "mark-$marker" "$T/watch.out" && break; sleep 0.01; done
  t1=$(date +%s.%N)
  grep -q "mark-$marker" "$T/watch.out" || fail "round $i: not shown after 1.5 s: $(cat "$T/watch.err")"
  delay=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')
  echo "round $i: shown by watch from the spool after $delay s"
  awk -v d="$delay" 'BEGIN{exit !(d <= 1.0)}' || fail "round $i: $delay s, over the 1 s bound"
  worst=$(awk -v a="$worst" -v b="$delay" 'BEGIN{print (b > a ? b : a)}')
done
kill -0 "$watcher" 2>/dev/null || fail "watch returned while the session runs: $(cat "$T/watch.err")"

touch "$T/end"
assert_eq "$(wait_rc)" 5 "rec's exit status"
wait_for 10 sh -c "! kill -0 $watcher 2>/dev/null" || fail "watch did not return when the session ended"
rc=0
wait "$watcher" || rc=$?
assert_eq "$rc" 5 "watch's exit status (the session's): $(cat "$T/watch.err")"
cmp <("$TA" cat "$id") "$T/watch.out" || fail "watch output differs from cat's"
ok "watch follows a running session from the spool (worst delay $worst s) to its status"
