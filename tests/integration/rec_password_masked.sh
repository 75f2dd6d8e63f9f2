# Input typed at a password prompt (canonical mode, echo off) is not stored; a marker says
# input was hidden; what is typed afterwards is recorded again.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rec.sh"
rec_in_tmux 80 24 /bin/sh
tmx_wait_text rec '#'
tmx send-keys -t rec 'stty -echo; printf "Password: "; read pw; stty echo; echo; echo "len=${#pw}"' Enter
tmx_wait_text rec 'Password:'
tmx send-keys -t rec 'hunter2-secret' Enter
tmx_wait_text rec 'len=14'
tmx send-keys -t rec 'echo after-prompt' Enter
tmx_wait_text rec 'after-prompt'
tmx send-keys -t rec 'exit' Enter
wait_rc >/dev/null
id=$(only_session_id)
cast="$SPOOL/$id.cast"
if grep -q 'hunter2' "$cast"; then fail "the password is in the record"; fi
markers=$(tail -n +2 "$cast" | jq -r 'select(.[1]=="m") | .[2]')
assert_contains "$markers" "input hidden" "hidden-input marker"
inputs=$(tail -n +2 "$cast" | jq -r 'select(.[1]=="i") | .[2]' | tr -d '\n')
assert_contains "$inputs" "echo after-prompt" "input after the prompt"
hidden=$(jq -r .session.bytes_in_hidden "$SPOOL/$id.json")
assert_eq "$hidden" 15 "hidden bytes counted (14 + Enter)"
ok "password masked"
