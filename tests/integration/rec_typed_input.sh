# Typed input reaches the command, is echoed on screen, and is recorded as input and output.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rec.sh"
rec_in_tmux 80 24 /bin/sh
tmx_wait_text rec '#'
tmx send-keys -t rec 'echo typed-$((6*7))' Enter
tmx_wait_text rec 'typed-42'
tmx send-keys -t rec 'exit' Enter
assert_eq "$(wait_rc)" 0 "rec's exit status"
id=$(only_session_id)
out=$("$TA" cat "$id")
assert_contains "$out" 'echo typed-$((6*7))' "echoed input in the output"
assert_contains "$out" 'typed-42' "command output"
inputs=$(tail -n +2 "$SPOOL/$id.cast" | jq -r 'select(.[1]=="i") | .[2]' | tr -d '\n')
assert_contains "$inputs" 'echo typed-$((6*7))' "recorded input"
assert_eq "$(session_field "$id" state)" exited
assert_eq "$(session_field "$id" exit_code)" 0
# 'echo typed-$((6*7))' and Enter (20 bytes), 'exit' and Enter (5).
assert_eq "$(session_field "$id" bytes_in)" 25 "bytes_in"
ok "typed input echoed and recorded"
