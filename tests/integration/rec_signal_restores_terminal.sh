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
# The recorder hangs up the session as a closed terminal would: the shell dies of SIGHUP, and
# rec exits as the shell did, 128+1.
assert_eq "$(sed 's/rc=//' "$T/rc")" 129 "rec exit status (the shell was hung up)"
wait_for 10 test -f "$SPOOL/$id.json"
assert_eq "$(session_field "$id" state)" signaled "session state"
assert_eq "$(session_field "$id" signal)" 1 "signal that ended the shell"
ok "terminal restored after SIGTERM (rec exit 129, session signaled by SIGHUP)"
