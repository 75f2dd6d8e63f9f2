#!/usr/bin/env bash
# The eBPF source's ring buffer overruns for real: the hub is stopped (SIGSTOP) while a tracked
# session runs a burst of 300 execs into a one-page ring, so the kernel cannot write most of
# their records. The BPF programs count each record that did not fit; once the hub runs again
# it reports the count as lost events, resyncs the session from /proc, and the session's
# manifest says so (tracking.lost_events), keeps tracking and ends normally. Never silent.
. "$(dirname "$0")/../lib/common.sh"

TRACK="$BIN/ttyaudit-tracker"
require_tracking --local
mkdir -p -m 0700 "$TTYAUDIT_RUN_DIR"
page=$(getconf PAGESIZE)
"$TRACK" --run-dir "$TTYAUDIT_RUN_DIR" --idle-exit-s 0 --ebpf-ring-bytes "$page" &
hub=$!
track_pid $hub
on_exit "kill -CONT $hub"
wait_for 10 test -S "$TTYAUDIT_RUN_DIR/tracker.sock"
src=$("$TRACK" --stats --run-dir "$TTYAUDIT_RUN_DIR" | jq -r .source)
[[ $src == ebpf ]] || skip "the hub did not load its eBPF source (source: $src): $(grep -i ebpf "$TTYAUDIT_RUN_DIR/tracker.log" | tail -n 1)"

# The session waits for `go` (the hub is stopped by then), runs the burst, says so, then runs
# one more command once the hub reads again.
session='
  : >'"$T"'/started
  while [ ! -e '"$T"'/go ]; do sleep 0.05; done
  i=0; while [ $i -lt 300 ]; do /bin/true burst $i; i=$((i+1)); done
  : >'"$T"'/burst.done
  while [ ! -e '"$T"'/resumed ]; do sleep 0.05; done
  /bin/sleep 0.3
  exit 3'
"$TRACK" track -- sh -c "$session" >"$T/s.json" 2>"$T/s.err" &
s=$!
track_pid $s
wait_for 10 test -e "$T/started"
kill -STOP $hub
: >"$T/go"
wait_for 30 test -e "$T/burst.done"
kill -CONT $hub
sleep 0.5  # the hub's idle check of the drop counter runs every 100 ms
: >"$T/resumed"
rc=0
wait $s || rc=$?
assert_eq "$rc" 3 "the session's exit status"
stats=$("$TRACK" --stats --run-dir "$TTYAUDIT_RUN_DIR")
jq -e '.source == "ebpf" and .lost_events >= 1 and .resyncs >= 1' <<<"$stats" >/dev/null ||
  fail "the ring's overrun was not counted: $stats"
grep -q "ebpf source: events lost" "$TTYAUDIT_RUN_DIR/tracker.log" ||
  fail "the hub's log does not report the loss: $(tail -n 3 "$TTYAUDIT_RUN_DIR/tracker.log")"
jq -e . "$T/s.json" >/dev/null || fail "no JSON: $(cat "$T/s.err")"
assert_eq "$(jq -r .tracking.via "$T/s.json")" hub "tracking via"
assert_eq "$(jq -r .tracking.source "$T/s.json")" ebpf "tracking source"
lost=$(jq -r .tracking.lost_events "$T/s.json")
((lost >= 1)) || fail "the session's manifest does not count the loss: $(jq -c .tracking "$T/s.json")"
# The loss is real: a one-page ring holds a few dozen records, not the burst's 900 (fork, exec
# and exit of each /bin/true); the burst's execs the manifest has are at most what fitted.
seen=$(jq '[.commands[] | select(.argv[0:2] == ["/bin/true", "burst"])] | length' "$T/s.json")
((seen < 300)) || fail "all 300 execs of the burst were recorded: the ring did not overrun"
jq -e '.commands[0].exit_code == 3' "$T/s.json" >/dev/null ||
  fail "the root's exit: $(jq -c '.commands[0]' "$T/s.json")"
jq -e '.commands[] | select(.argv == ["/bin/sleep","0.3"])' "$T/s.json" >/dev/null ||
  fail "nothing tracked after the overrun: $(jq -c .commands "$T/s.json" | tail -c 600)"
ok "eBPF ring overrun: hub $(jq -c '{lost_events, resyncs}' <<<"$stats"), the session's manifest lost_events $lost, $seen of 300 burst execs recorded, tracking went on"
