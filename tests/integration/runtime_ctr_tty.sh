#!/usr/bin/env bash
# `ctr task exec -t` through ttyaudit-runtime, driven in tmux: typed commands, a resize, Ctrl-C
# of a sleep and `exit 3` look to the client exactly as with plain runc, and the record holds
# the output, the input, both sizes and exit status 3.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rootfs.sh"
. "$(dirname "$0")/../lib/containerd.sh"

RUNC=$(command -v runc) || skip "runc not installed (make deps)"
start_ttyaudit_containerd
ctr_run_bg plain "$T/rootfs" "$RUNC" -- sleep 1000
ctr_run_bg rec "$T/rootfs" "$BIN/ttyaudit-runtime" -- sleep 1000

for id in plain rec; do
  drive_tty_script "$id" "ctr --address '$CTR_SOCK' -n '$CTR_NS' task exec --fifo-dir '$T/containerd/fifo' --exec-id x-$id -t $id sh"
done
grep -q "CLIENT-RC=3" "$T/rec.screen" || { cat "$T/rec.screen" >&2; fail "client exit code through ttyaudit-runtime"; }
if ! diff "$T/plain.screen" "$T/rec.screen" >&2; then fail "the client's screen differs from plain runc's"; fi
ok "client screen identical to plain runc's (typed input, resize, Ctrl-C, exit 3)"

mapfile -t ids < <(terminal_sessions)
assert_eq "${#ids[@]}" 1 "terminal sessions recorded"
check_tty_script_record "${ids[0]}" rec
[[ $(session_meta "${ids[0]}" | jq -r .bundle) == */rec ]] || fail "bundle is not the container's"
