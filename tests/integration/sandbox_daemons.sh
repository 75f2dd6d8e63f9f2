#!/usr/bin/env bash
# The uploader and the tracker hub run sandboxed (NoNewPrivs 1, Seccomp 2, only the
# capabilities they use) and still do their work under their filters: the uploader ships sealed
# and live sessions to S3, the hub sends a tracked command's processes to its subscriber.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/s3rver.sh"
. "$(dirname "$0")/../lib/sandbox.sh"

command -v capsh >/dev/null || fail "capsh not installed (libcap2-bin, make deps)"

# The hub, as its systemd unit runs it.
mkdir -p -m 0700 "$TTYAUDIT_RUN_DIR"  # as the unit makes it: the hub refuses a looser one
"$BIN/ttyaudit-tracker" --run-dir "$TTYAUDIT_RUN_DIR" --idle-exit-s 0 &
track_pid $!
hub=$!
wait_for 10 test -S "$TTYAUDIT_RUN_DIR/tracker.sock"
assert_sandboxed "$hub" "the tracker hub" cap_sys_nice,cap_sys_ptrace
out=$("$BIN/ttyaudit-tracker" track -- sh -c '/bin/echo hub-marker-1 >/dev/null; /bin/sleep 0.3' 2>&1)
assert_contains "$out" "hub-marker-1" "the hub's records of a tracked command"
kill -0 "$hub" || fail "the hub died serving under its filter"
ok "the sandboxed hub served a tracked command's processes"

start_s3rver
spool="$T/spool"
make_sessions "$spool" 3 30000 sealed >"$T/sealed"
# One still recording: its file locked, as a live recorder holds it.
read -r live_id _ < <(make_sessions "$spool" 1 3000 open)
flock -x -F "$spool/$live_id.cast" sleep 600 &
locker=$!
track_pid $locker
wait_for 5 grep -q FLOCK /proc/locks
write_config "$T/config.json" "$spool" "s3://$S3_BUCKET/sb" 0.5
export TTYAUDIT_CONFIG="$T/config.json"
"$BIN/ttyaudit-uploader" --jobs 2 --interrupted-after 2 2>"$T/uploader.log" &
up=$!
track_pid $up
wait_for 10 test -d "/proc/$up"
sleep 0.3
assert_sandboxed "$up" "the uploader" cap_linux_immutable
all_sealed_shipped() {
  local id key
  while read -r id key; do bucket_keys "sb/" | grep -qxF "sb/$key" || return 1; done <"$T/sealed"
}
wait_for 30 all_sealed_shipped
has_live() { bucket_keys "sb/live/$live_id/" | grep -q '\.part$'; }
wait_for 20 has_live
# Its recorder gone (the lock released), the uploader seals it as interrupted.
kill "$locker"
live_sealed() { bucket_keys "sb/sessions/" | grep -q "$live_id\.json\$"; }
wait_for 30 live_sealed
kill -0 "$up" || { cat "$T/uploader.log" >&2; fail "the uploader died under its filter"; }
grep -q "runs with all its privileges" "$T/uploader.log" && fail "the uploader did not enter its sandbox"
kill -TERM "$up"
rc=0
wait "$up" || rc=$?
assert_eq "$rc" 0 "the uploader's exit status after SIGTERM, under its filter"
ok "the sandboxed uploader shipped 3 sealed sessions, live chunks of a recording one, then sealed it"
