#!/usr/bin/env bash
# The node's tracker hub (ttyaudit-tracker): the first recorder starts it, two concurrent
# sessions (ttyaudit-tracker track and ttyaudit rec) share the one hub and each sees only its own
# processes; the hub exits by itself once idle; killing it mid-session neither hangs nor
# crashes the recorder, which tracks on in-process and says so in the manifest; the next
# session starts a fresh hub.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rec.sh"

TRACK="$BIN/ttyaudit-tracker"
require_tracking --local
export TTYAUDIT_TRACKER_IDLE_S=2
hub_stat() { "$BIN/ttyaudit-tracker" --stats --run-dir "$TTYAUDIT_RUN_DIR" | jq -r ".$1"; }
subscribers_are() { [[ $(hub_stat subscribers 2>/dev/null) == "$1" ]]; }
hubs_for_this_test() { pgrep -f -- "ttyaudit-tracker --run-dir $TTYAUDIT_RUN_DIR( |\$)" | wc -l; }
assert_eq "$(tracker_hub_pid)" "" "no hub before the first session"

# A busy neighbour: a loop of /bin/true that no session tracks.
sh -c 'while :; do /bin/true; done' &
track_pid $!
loader=$!
# Two sessions that wait for $T/go, then run their own marked commands. A /bin/true lives about
# half a millisecond, and its argv is read from /proc racing its exit: on this VM the hub's
# wake-up sometimes takes longer (the rate is bench/tracking.sh's subject, not this test's).
# Each session runs five; this test asks that most are read, and that none lands in the other.
# The waits end with $T too: a session left behind by a failed run must not wait for good.
session_cmd() {
  echo "while [ ! -e $T/go ] && [ -d $T ]; do sleep 0.05; done
    for i in 1 2 3 4 5; do /bin/true $1; done; /bin/sleep 0.2"
}
"$TRACK" track --stats -- sh -c "$(session_cmd from-track)" >"$T/a.json" 2>"$T/a.err" &
a=$!
track_pid $a
"$TA" rec -q -- sh -c "$(session_cmd from-rec)" </dev/null >"$T/b.out" 2>"$T/b.err" &
b=$!
track_pid $b
wait_for 10 subscribers_are 2
assert_eq "$(hubs_for_this_test)" 1 "hub processes for two sessions"
hub=$(tracker_hub_pid)
[[ -n $hub ]] || fail "no hub pid file"
stat -c %a "$TTYAUDIT_RUN_DIR/tracker.sock" | grep -qx 600 || fail "socket mode $(stat -c %a "$TTYAUDIT_RUN_DIR/tracker.sock")"
stat -c %a "$TTYAUDIT_RUN_DIR" | grep -qx 700 || fail "run dir mode $(stat -c %a "$TTYAUDIT_RUN_DIR")"
ok "two sessions, one hub (pid $hub) started on demand, socket 0600 in a 0700 dir"
sleep 0.5
touch "$T/go"
wait $a || fail "track: $(cat "$T/a.err")"
wait $b || fail "rec: $(cat "$T/b.err")"
hub_read=$(hub_stat events_read)
hub_source=$(hub_stat source)
kill "$loader"
jq -e . "$T/a.json" >/dev/null || fail "track printed no JSON: $(cat "$T/a.err")"
m="$SPOOL/$(only_session_id).json"
wait_for 10 jq -e '.commands' "$m"
for f in "$T/a.json" "$m"; do
  assert_eq "$(jq -r .tracking.via "$f")" hub "tracking via ($f)"
  assert_eq "$(jq -r .tracking.lost_events "$f")" 0 "lost events ($f)"
done
# own FILE MARK: how many /bin/true MARK the session read; others FILE MARK: any other /bin/true.
own() { jq --arg m "$2" '[.commands[] | select(.argv == ["/bin/true", $m])] | length' "$1"; }
others() { jq -r --arg m "$2" '[.commands[] | select(.argv[0] == "/bin/true" and .argv[1] != $m) | .argv[1]] | join(",")' "$1"; }
for s in "$T/a.json from-track" "$m from-rec"; do
  read -r f mark <<<"$s"
  n=$(own "$f" "$mark")
  ((n >= 3)) || fail "$mark: only $n of 5 /bin/true read: $(jq -c .commands "$f")"
  assert_eq "$(others "$f" "$mark")" "" "another session's /bin/true in $f"
  echo "$mark: $n of 5 /bin/true read"
done
# No pid of one session is in the other's records.
both=$( (jq '.commands[].pid' "$T/a.json"; jq '.commands[].pid' "$m") | sort | uniq -d | wc -l)
assert_eq "$both" 0 "pids recorded by both sessions"
stats=$(tail -n 1 "$T/a.err")
assert_eq "$(jq -r .via <<<"$stats")" hub "track --stats via"
# The hub read the neighbour's events (with eBPF they stay in the kernel: the hub reads about
# the two sessions' own); the session was sent only its own.
session_read=$(jq -r .events_read <<<"$stats")
if [[ $hub_source == ebpf ]]; then
  ((hub_read < 4 * session_read)) || fail "eBPF: the hub read $hub_read events for sessions of $session_read"
else
  ((session_read * 4 < hub_read)) || fail "the session got $session_read events of the hub's $hub_read"
fi
echo "events: the hub ($hub_source) read $hub_read, the track session was sent $session_read"
ok "each session saw only its own processes, through the hub, none lost"

wait_for 10 sh -c "! kill -0 $hub 2>/dev/null"
[[ ! -e $TTYAUDIT_RUN_DIR/tracker.sock ]] || fail "the idle hub left its socket behind"
ok "the hub exited by itself after ${TTYAUDIT_TRACKER_IDLE_S}s without subscribers"

# Killing the hub mid-session: the recorder notices, tracks on in-process, ends normally.
c_cmd="for i in 1 2 3 4 5; do /bin/echo before; done >/dev/null
  while [ ! -e $T/killed ] && [ -d $T ]; do sleep 0.05; done; sleep 0.5
  for i in 1 2 3 4 5; do /bin/echo after-kill; done >/dev/null; exit 5"
"$TRACK" track -- sh -c "$c_cmd" >"$T/c.json" 2>"$T/c.err" &
c=$!
track_pid $c
wait_for 10 subscribers_are 1
hub=$(tracker_hub_pid)
kill -KILL "$hub"
touch "$T/killed"
rc=0
timeout 20 tail --pid=$c -f /dev/null || fail "the recorder hung after the hub was killed"
wait $c || rc=$?
assert_eq "$rc" 5 "the session's exit status"
jq -e . "$T/c.json" >/dev/null || fail "no JSON after the hub died: $(cat "$T/c.err")"
assert_eq "$(jq -r .tracking.via "$T/c.json")" "hub, then local" "tracking via"
jq -e '.tracking.problem | test("connection lost")' "$T/c.json" >/dev/null ||
  fail "the manifest does not say tracking was interrupted: $(jq -c .tracking "$T/c.json")"
jq -e '.tracking.lost_events >= 1' "$T/c.json" >/dev/null || fail "lost events not counted"
echoes() { jq --arg w "$1" '[.commands[] | select(.argv == ["/bin/echo", $w])] | length' "$T/c.json"; }
(($(echoes before) >= 3)) || fail "the hub's part is missing: $(jq -c .commands "$T/c.json")"
(($(echoes after-kill) >= 3)) || fail "nothing tracked after the hub died: $(jq -c .commands "$T/c.json")"
echo "echoes read: $(echoes before) of 5 through the hub, $(echoes after-kill) of 5 in-process"
ok "hub killed mid-session: the recorder went on in-process (exit 5, after-kill recorded)"

# That session runs pinned to one CPU: the hub it starts serves the whole node, and must not
# keep the pinning.
PIN=()
(($(nproc) > 1)) && PIN=(taskset -c 0)
"${PIN[@]}" "$TRACK" track -- /bin/true >"$T/d.json" 2>"$T/d.err" || fail "track after the kill: $(cat "$T/d.err")"
assert_eq "$(jq -r .tracking.via "$T/d.json")" hub "the next session's tracking"
hub=$(tracker_hub_pid)
[[ -n $hub ]] || fail "no hub after the next session (it exits ${TTYAUDIT_TRACKER_IDLE_S}s after it)"
cpus() { sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$1/status"; }
assert_eq "$(cpus "$hub")" "$(cpus $$)" "the hub's CPUs (its recorder ran on ${PIN[*]:-every CPU})"
ok "the next session started a fresh hub over the dead one's socket, on CPUs $(cpus "$hub")"
