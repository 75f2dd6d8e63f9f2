# A signal to the recorder ends the session as a hang-up would, restores the user's terminal
# mode, records how it ended, and rec exits 128+N.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rec.sh"
tmx new-session -d -s outer -x 80 -y 24 "env TTYAUDIT_CONFIG=$TTYAUDIT_CONFIG PS1='outer$ ' /bin/sh"
tmx_wait_text outer 'outer$'
tmx send-keys -t outer "stty -g > $T/before; $TA rec -q -- /bin/sh; echo rc=\$? > $T/rc; stty -g > $T/after" Enter
has_session() { [[ -n $("$TA" search --json 2>/dev/null) ]]; }
wait_for 10 has_session
id=$("$TA" search --json | jq -r .id)
pid=$(head -n 1 "$SPOOL/$id.cast" | jq -r .ttyaudit.recorder_pid)
pane_tty=$(tmx display -p -t outer '#{pane_tty}')
mode_changed() { [[ $(stty -F "$pane_tty" -g) != "$(cat "$T/before")" ]]; }
wait_for 10 mode_changed  # rec has put the terminal in raw mode
kill -TERM "$pid"
wait_for 10 test -s "$T/after"
assert_eq "$(cat "$T/after")" "$(cat "$T/before")" "terminal mode after SIGTERM"
rc=$(sed 's/rc=//' "$T/rc")
[[ $rc -ge 128 ]] || fail "rec exit status $rc: want 128+N (the shell was hung up)"
state=$(session_field "$id" state)
[[ $state == signaled || $state == exited ]] || fail "state $state"
ok "terminal restored after SIGTERM (rec exit $rc, session $state)"
