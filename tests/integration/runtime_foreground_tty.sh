#!/usr/bin/env bash
# `runc exec -t` in the foreground with no console socket (how CRI-O runs interactive execs, and
# how runc is run by hand): through ttyaudit-runtime the terminal behaves as with runc (typed
# input, resize, Ctrl-C, exit 3), and the session is recorded with its exit status.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rootfs.sh"
. "$(dirname "$0")/../lib/containerd.sh"

RUNC=$(command -v runc) || skip "runc not installed (make deps)"
start_ttyaudit_containerd
ctr_run_bg fg "$T/rootfs" "$BIN/ttyaudit-runtime" -- sleep 1000
R="$RUNC_ROOT/$CTR_NS"

drive_tty_script plain "$RUNC --root '$R' exec -t fg sh"
drive_tty_script rec "$BIN/ttyaudit-runtime --root '$R' exec -t fg sh"
grep -q "CLIENT-RC=3" "$T/rec.screen" || { cat "$T/rec.screen" >&2; fail "exit code through ttyaudit-runtime"; }
if ! diff "$T/plain.screen" "$T/rec.screen" >&2; then fail "the terminal differs from plain runc's"; fi
ok "runc exec -t in the foreground: screen identical to plain runc's"

mapfile -t ids < <(terminal_sessions)
assert_eq "${#ids[@]}" 1 "terminal sessions recorded"
id=${ids[0]}
wait_sealed "$id"
m=$(session_meta "$id")
assert_eq "$(jq -r .exit_code <<<"$m")" 3 "exit code"
assert_eq "$(jq -r .container_id <<<"$m")" fg "container id"
out=$(session_output "$id")
for want in typed-42 "40 120" after-2-ctrl-c; do assert_contains "$out" "$want" "recorded output"; done
sizes=$(session_events "$id" r | jq -r .)
assert_contains "$sizes" "120x40" "resized size"
ok "record: output, resize 120x40, exit status 3"
