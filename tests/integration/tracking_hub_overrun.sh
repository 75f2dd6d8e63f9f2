#!/usr/bin/env bash
# When the kernel drops events because the hub's receive buffer is full (ENOBUFS), the hub
# rescans /proc and resyncs each subscriber: the session counts the loss in its manifest,
# keeps tracking (a command it runs after the overrun is recorded) and ends normally.
. "$(dirname "$0")/../lib/common.sh"

TRACK="$BIN/ttyaudit-tracker"
require_tracking --local
mkdir -p -m 0700 "$TTYAUDIT_RUN_DIR"
# A receive buffer of a few events: a burst of forks overflows it between the hub's drains.
# The proc connector's (eBPF filters in the kernel: the burst would never reach the hub).
"$BIN/ttyaudit-tracker" --run-dir "$TTYAUDIT_RUN_DIR" --idle-exit-s 0 --rcvbuf-bytes 4096 --no-ebpf &
track_pid $!
wait_for 10 test -S "$TTYAUDIT_RUN_DIR/tracker.sock"
# The command after the overrun lives 0.3 s: with a receive buffer this small, any burst of
# events elsewhere on the machine can overrun the hub again at that moment, and a process of a
# millisecond may then be gone before the rescan reads its argv. Short processes are
# tracking_hub's subject; this test's is that tracking goes on after a resync.
"$TRACK" track -- sh -c "sleep 2; /bin/sleep 0.3; exit 3" >"$T/s.json" 2>"$T/s.err" &
s=$!
track_pid $s
sleep 0.3
sh -c 'for i in $(seq 400); do /bin/true; done'  # the burst, while the session sleeps
rc=0
wait $s || rc=$?
assert_eq "$rc" 3 "the session's exit status"
stats=$("$BIN/ttyaudit-tracker" --stats --run-dir "$TTYAUDIT_RUN_DIR")
jq -e '.lost_events >= 1 and .resyncs >= 1' <<<"$stats" >/dev/null || fail "no overrun happened: $stats"
jq -e . "$T/s.json" >/dev/null || fail "no JSON: $(cat "$T/s.err")"
assert_eq "$(jq -r .tracking.via "$T/s.json")" hub "tracking via"
jq -e '.tracking.lost_events >= 1' "$T/s.json" >/dev/null ||
  fail "the session does not count the loss: $(jq -c .tracking "$T/s.json")"
jq -e '.commands[0].exit_code == 3' "$T/s.json" >/dev/null ||
  fail "the root's exit: $(jq -c '.commands[0]' "$T/s.json")"
jq -e '.commands[] | select(.argv == ["/bin/sleep","0.3"])' "$T/s.json" >/dev/null ||
  fail "nothing tracked after the overrun: $(jq -c .commands "$T/s.json")"
ok "hub overrun: $(jq -c '{lost_events, resyncs}' <<<"$stats"); the session counted it and tracked on"
