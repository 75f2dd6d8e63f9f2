# The initial size and every later resize reach the command (stty size) and the record.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rec.sh"
rec_in_tmux 90 20 /bin/sh
tmx_wait_text rec '#'
tmx send-keys -t rec 'stty size' Enter
tmx_wait_text rec '20 90'
tmx resize-window -t rec -x 120 -y 40
sleep 0.5
tmx send-keys -t rec 'clear; stty size' Enter
tmx_wait_text rec '40 120'
tmx send-keys -t rec 'exit' Enter
wait_rc >/dev/null
id=$(only_session_id)
header=$(head -n 1 "$SPOOL/$id.cast")
assert_eq "$(jq -r '"\(.width)x\(.height)"' <<<"$header")" 90x20 "initial size in the header"
resizes=$(tail -n +2 "$SPOOL/$id.cast" | jq -r 'select(.[1]=="r") | .[2]')
assert_contains "$resizes" "120x40" "resize event"
ok "sizes seen by the child and recorded"
