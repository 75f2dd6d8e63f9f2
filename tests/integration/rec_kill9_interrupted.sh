# kill -9 of the recorder leaves a file that is valid up to its last complete event and reads
# as an interrupted session.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rec.sh"
rec_in_tmux 80 24 sh -c 'i=0; while :; do echo line-$i; i=$((i+1)); sleep 0.005; done'
tmx_wait_text rec 'line-300' 20
id=$("$TA" search --json | jq -r .id)
pid=$(head -n 1 "$SPOOL/$id.cast" | jq -r .ttyaudit.recorder_pid)
[[ $(cat /proc/"$pid"/comm) == ttyaudit* ]] || fail "recorder pid $pid is not ttyaudit"
assert_eq "$(session_field "$id" state)" recording "state while the recorder runs"
kill -9 "$pid"
sleep 0.3
assert_eq "$(session_field "$id" state)" interrupted "state after kill -9"
[[ $(session_field "$id" end) != null ]] || fail "an interrupted session has an end time"
out=$("$TA" cat "$id")
assert_contains "$out" "line-300" "output up to the kill"
# Every complete line parses; only the last may be cut short.
lines=$(wc -l <"$SPOOL/$id.cast")
head -n "$lines" "$SPOOL/$id.cast" | tail -n +2 | jq -c . >/dev/null || fail "a complete line does not parse"
ok "interrupted session readable"
