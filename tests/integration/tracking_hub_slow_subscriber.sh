#!/usr/bin/env bash
# The hub's memory stays bounded: a subscriber that never reads while its tree keeps running
# commands is dropped with a logged error once its queue passes --max-queued-bytes (the
# connection ends; a CLOSING message says why if its socket still has room), and the hub keeps
# serving the other sessions.
. "$(dirname "$0")/../lib/common.sh"

TRACK="$BIN/ttyaudit-tracker"
require_tracking --local
command -v python3 >/dev/null || fail "python3 is not installed (make deps)"
mkdir -p -m 0700 "$TTYAUDIT_RUN_DIR"
"$BIN/ttyaudit-tracker" --run-dir "$TTYAUDIT_RUN_DIR" --idle-exit-s 0 --max-queued-bytes 65536 &
track_pid $!
wait_for 10 test -S "$TTYAUDIT_RUN_DIR/tracker.sock"

# A subscriber written against the wire format (track/tracker_wire.h): SUBSCRIBE itself, wait
# for the ACK, then run 4,000 /bin/true without reading; then read what is left: the
# connection must end (recv times out if the hub kept it).
cat >"$T/slow.py" <<'PY'
import os, socket, struct, subprocess, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.send(b"\x01" + struct.pack("=Ii", 2, os.getpid()))  # SUBSCRIBE, protocol version 2
ack = s.recv(65536)
assert ack[0] == 16, ack
for _ in range(4000):
    subprocess.run(["/bin/true", "x" * 200])
s.settimeout(10)
last, n = None, 0
while True:
    p = s.recv(65536)
    if not p:
        break
    last, n = p, n + 1
print("packets", n, "then the end; last was", "CLOSING" if last and last[0] == 20 else "EVENTS")
PY
python3 "$T/slow.py" "$TTYAUDIT_RUN_DIR/tracker.sock" >"$T/slow.out" 2>&1 || fail "slow subscriber: $(cat "$T/slow.out")"
cat "$T/slow.out"
stats=$("$BIN/ttyaudit-tracker" --stats --run-dir "$TTYAUDIT_RUN_DIR")
assert_eq "$(jq -r .dropped_subscribers <<<"$stats")" 1 "dropped subscribers"
grep -q "does not read its events" "$TTYAUDIT_RUN_DIR/tracker.log" 2>/dev/null ||
  journalctl -t ttyaudit-tracker --since -2min 2>/dev/null | grep -q "does not read its events" ||
  fail "no logged error for the dropped subscriber"
ok "a subscriber that does not read was dropped and its connection closed, logged"

"$TRACK" track -- sh -c '/bin/true ok' >"$T/next.json" 2>"$T/next.err" || fail "$(cat "$T/next.err")"
assert_eq "$(jq -r .tracking.via "$T/next.json")" hub "the next session's tracking"
jq -e '.commands[] | select(.argv == ["/bin/true","ok"])' "$T/next.json" >/dev/null ||
  fail "the next session's command is missing: $(jq -c .commands "$T/next.json")"
ok "the hub went on serving other sessions"
