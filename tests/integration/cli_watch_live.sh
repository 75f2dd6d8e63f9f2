# `ttyaudit watch ID` shows a running session's output so far, follows what it prints next, and
# returns by itself when the session ends.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rec.sh"
rec_in_tmux 80 24 sh -c "echo before-watch; while [ ! -e $T/go ]; do sleep 0.05; done;
  echo after-watch; while [ ! -e $T/end ]; do sleep 0.05; done; echo last-line"
tmx_wait_text rec 'before-watch' 10
id=$(only_session_id)

"$TA" watch "$id" >"$T/watch.out" 2>"$T/watch.err" &
watcher=$!
track_pid "$watcher"
wait_for 10 grep -q before-watch "$T/watch.out" || fail "watch did not show the output so far"
grep -q after-watch "$T/watch.out" && fail "watch shows output that was not printed yet"

touch "$T/go"
wait_for 10 grep -q after-watch "$T/watch.out" || fail "watch did not follow new output"
kill -0 "$watcher" 2>/dev/null || fail "watch returned while the session still runs: $(cat "$T/watch.err")"

touch "$T/end"
assert_eq "$(wait_rc)" 0 "rec's exit status"
wait_for 10 sh -c "! kill -0 $watcher 2>/dev/null" || fail "watch did not return when the session ended"
wait "$watcher" || fail "watch exited non-zero: $(cat "$T/watch.err")"
grep -q last-line "$T/watch.out" || fail "watch lost the session's last output"
# What watch printed is the session's output, byte for byte, as cat gives it once it has ended.
cmp <("$TA" cat "$id") "$T/watch.out" || fail "watch output differs from cat's"
ok "watch follows a live session to its end"
