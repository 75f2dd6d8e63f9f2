#!/usr/bin/env bash
# A process that outlives its terminal: the exec closes the tty and keeps running (it ignores
# the hang-up), so the recorder sees the session end but cannot learn an exit status in time.
# The record is whole and sealed, and says so: state "ended" with no exit code (not "exited"
# with a made-up -1, and not "interrupted", which means the recording was cut short).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rootfs.sh"
. "$(dirname "$0")/../lib/containerd.sh"

start_ttyaudit_containerd
ctr_run_bg c1 "$T/rootfs" "$BIN/ttyaudit-runtime" -- sleep 1000
ctr_exec_tty c1 outlives \
  sh -c 'trap "" HUP; echo before-the-tty-closes; exec sleep 60 </dev/null >/dev/null 2>&1' \
  >"$T/client.out" 2>&1 &
client=$!
track_pid "$client"
wait_for 20 bash -c "[[ -n \$(ls '$SPOOL'/*.cast 2>/dev/null) ]]"
id=$(sessions | head -n 1)
# The recorder waits a few seconds for an exit status before it seals without one.
wait_for 30 test -f "$SPOOL/$id.json"
assert_eq "$(session_meta "$id" | jq -r .state)" ended "state of a session whose process outlived its terminal"
assert_contains "$(session_output "$id")" before-the-tty-closes "the output before the tty closed"
line=$("$BIN/ttyaudit" search --json | jq -c --arg id "$id" 'select(.id == $id)')
assert_eq "$(jq -r '.state + " " + (.exit_code | tojson)' <<<"$line")" "ended null" "search --json"
"$BIN/ttyaudit" search | grep -F "$id" | grep -qw ended || fail "search's table does not say ended"
ok "session $id: sealed as ended, exit_code null, output kept"

cctr task kill --exec-id outlives -s KILL c1
wait "$client" 2>/dev/null || true
