#!/usr/bin/env bash
# `ctr task exec -t` through ttyaudit-runtime, driven in tmux: typed commands, a resize, Ctrl-C
# of a sleep and `exit 3` look to the client exactly as with plain runc, and the record holds
# the output, the input, both sizes and exit status 3.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rootfs.sh"
. "$(dirname "$0")/../lib/containerd.sh"

RUNC=$(command -v runc) || skip "runc not installed (make deps)"
make_busybox_rootfs "$T/rootfs"
use_ttyaudit_config
start_containerd
ctr_run_bg plain "$T/rootfs" "$RUNC" -- sleep 1000
ctr_run_bg rec "$T/rootfs" "$BIN/ttyaudit-runtime" -- sleep 1000

# drive ID: the same interactive script against container ID; leaves its screen in $T/ID.screen.
drive() {
  local id=$1 s=$1
  tmx new-session -d -s "$s" -x 100 -y 30 \
    "ctr --address '$CTR_SOCK' -n '$CTR_NS' task exec --fifo-dir '$T/containerd/fifo' --exec-id x-$id -t $id sh; echo CLIENT-RC=\$?; sleep 600"
  tmx set-option -t "$s" window-size manual
  tmx_wait_text "$s" "/ #"
  tmx send-keys -t "$s" 'echo typed-$((6*7))' Enter
  tmx_wait_text "$s" "typed-42"
  tmx resize-window -t "$s" -x 120 -y 40
  sleep 0.5
  tmx send-keys -t "$s" 'stty size' Enter
  tmx_wait_text "$s" "40 120"
  tmx send-keys -t "$s" 'sleep 30' Enter
  sleep 0.5
  tmx send-keys -t "$s" C-c
  sleep 0.3
  tmx send-keys -t "$s" 'echo after-$((1+1))-ctrl-c' Enter
  tmx_wait_text "$s" "after-2-ctrl-c" 5
  tmx send-keys -t "$s" 'exit 3' Enter
  tmx_wait_text "$s" "CLIENT-RC=" 10
  tmx_screen "$s" >"$T/$id.screen"
}
drive plain
drive rec
grep -q "CLIENT-RC=3" "$T/rec.screen" || { cat "$T/rec.screen" >&2; fail "client exit code through ttyaudit-runtime"; }
if ! diff "$T/plain.screen" "$T/rec.screen" >&2; then fail "the client's screen differs from plain runc's"; fi
ok "client screen identical to plain runc's (typed input, resize, Ctrl-C, exit 3)"

mapfile -t ids < <(sessions)
terminal=()
for id in "${ids[@]}"; do [[ $(session_meta "$id" | jq -r .terminal) == true ]] && terminal+=("$id"); done
assert_eq "${#terminal[@]}" 1 "terminal sessions recorded"
id=${terminal[0]}
wait_sealed "$id"
m=$(session_meta "$id")
assert_eq "$(jq -r .state <<<"$m")" exited "state"
assert_eq "$(jq -r .exit_code <<<"$m")" 3 "exit code"
assert_eq "$(jq -r .container_id <<<"$m")" rec "container id"
assert_eq "$(jq -r .source <<<"$m")" runtime "source"
assert_eq "$(jq -c .argv <<<"$m")" '["sh"]' "argv"
[[ $(jq -r .bundle <<<"$m") == */rec ]] || fail "bundle: $(jq -r .bundle <<<"$m")"
[[ -n $(jq -r .machine_id <<<"$m") ]] || fail "no machine id"
ok "metadata: exited 3, container, argv, bundle, machine id"

out=$(session_output "$id")
for want in typed-42 "40 120" after-2-ctrl-c "exit 3"; do assert_contains "$out" "$want" "recorded output"; done
input=$(session_events "$id" i | jq -r . | tr -d '\r')
assert_contains "$input" 'echo typed-$((6*7))' "recorded input"
session_events "$id" i | grep -qF '\u0003' || fail "Ctrl-C not in the recorded input"
sizes=$(session_events "$id" r | jq -r .)
assert_contains "$sizes" "100x30" "initial size"
assert_contains "$sizes" "120x40" "resized size"
ok "record: output, input (with Ctrl-C), sizes 100x30 and 120x40"
