#!/usr/bin/env bash
# The tracker hub's eBPF source reads argv in the kernel at the exec itself: every process of a
# session is recorded with its own full argv however short its life, each program of an exec
# chain (env, nohup, a script's exec) included, and a setuid program run by an ordinary user is
# an escalation naming it. With eBPF disabled (TTYAUDIT_TRACKER_EBPF=0) the hub falls back to
# the proc connector and says so (tracking.source), and the same sessions pass under the
# best-effort rule: argv is read from /proc racing the process's exit.
. "$(dirname "$0")/../lib/common.sh"

TRACK="$BIN/ttyaudit-tracker"
[[ -x $TRACK ]] || fail "no $TRACK (make)"
"$TRACK" track --local -- true >/dev/null 2>"$T/probe.err" ||
  skip "the proc connector is not usable here: $(cat "$T/probe.err")"
export TTYAUDIT_TRACKER_IDLE_S=2
cc -O2 -o "$T/load" "$(dirname "$0")/../../bench/tracking_load.c"

# A setuid-root copy of id, in a directory an ordinary user may enter, run by a shell of
# nobody's (its own process, so that setpriv's setresuid() and the setuid program's exec are
# changes of two processes).
chmod 711 "$T"
mkdir -m 755 "$T/bin"
cp /usr/bin/id "$T/bin/suid-id"
chmod 4755 "$T/bin/suid-id"
printf 'exec /bin/true scriptmark\n' >"$T/bin/exec.sh"

session='
  i=0; while [ $i -lt 1000 ]; do /bin/true spaced $i; i=$((i+1)); done
  i=0; while [ $i -lt 100 ]; do /bin/busybox rm -f '"$T"'/gone.$i; i=$((i+1)); done
  env /bin/true chainmark
  nohup /bin/true nohupmark >/dev/null 2>&1
  sh '"$T"'/bin/exec.sh
  setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "'"$T"'/bin/suid-id -u" >/dev/null'
# Under load: 100 /bin/true while 2,000 untracked processes a second fork beside them.
loaded='i=0; while [ $i -lt 100 ]; do /bin/true loaded $i; i=$((i+1)); done'

count() {  # FILE JQ-FILTER: how many records match
  jq "[.commands[] | select($2)] | length" "$1"
}
run_sessions() {  # NAME: idle.json and loaded.json for this hub's source
  stop_tracker_hub
  "$TRACK" track -- sh -c "$session" >"$T/$1.idle.json" 2>"$T/$1.idle.err" ||
    fail "$1: track: $(cat "$T/$1.idle.err")"
  # 2,000 untracked forks a second (4 x 500, each child exits at once), paced on a clock for
  # 10 s: the session must end while the load still runs, and the load must reach its rate.
  local loaders=() n p forks
  for n in 1 2 3 4; do
    "$T/load" 500 10 --no-exec >"$T/$1.load.$n" &
    loaders+=($!)
    track_pid $!
  done
  sleep 0.5
  "$TRACK" track -- sh -c "$loaded" >"$T/$1.loaded.json" 2>"$T/$1.loaded.err" ||
    fail "$1: track: $(cat "$T/$1.loaded.err")"
  for p in "${loaders[@]}"; do kill -0 "$p" 2>/dev/null || fail "$1: the session outlasted the load"; done
  wait "${loaders[@]}"
  forks=$(cat "$T/$1.load."* | jq -s 'map(.forks_per_s) | add | floor')
  ((forks >= 1900)) || fail "$1: the load reached only $forks forks/s, not 2,000"
  echo "$1: load of $forks forks/s"
}

# ---- eBPF ----
run_sessions ebpf
f="$T/ebpf.idle.json"
src=$(jq -r .tracking.source "$f")
[[ $src == ebpf ]] || skip "the hub did not load its eBPF source (source: $src): $(grep -i ebpf "$TTYAUDIT_RUN_DIR/tracker.log" | tail -n 1)"
assert_eq "$(jq -r .tracking.via "$f")" hub "tracking via"
assert_eq "$(jq -r .tracking.lost_events "$f")" 0 "lost events"
assert_eq "$(count "$f" '.argv[0:2] == ["/bin/true", "spaced"] and (.argv | length) == 3')" 1000 "/bin/true spaced N with full argv"
assert_eq "$(jq '[.commands[] | select(.argv[1] == "spaced") | .argv[2]] | unique | length' "$f")" 1000 "distinct spaced arguments"
assert_eq "$(count "$f" '.argv[0:3] == ["/bin/busybox", "rm", "-f"]')" 100 "busybox rm with full argv"
for chain in 'env /bin/true chainmark' 'nohup /bin/true nohupmark' "sh $T/bin/exec.sh|/bin/true scriptmark"; do
  first=${chain%%|*}
  second=${chain#*|}
  [[ $chain == *'|'* ]] || second=${first#* }
  p1=$(jq --arg a "$first" '[.commands[] | select((.argv | join(" ")) == $a) | .pid] | first' "$f")
  p2=$(jq --arg a "$second" '[.commands[] | select((.argv | join(" ")) == $a) | .pid] | first' "$f")
  [[ $p1 != null && $p2 != null ]] || fail "exec chain [$first] then [$second]: $(jq -c '[.commands[] | .argv]' "$f" | tail -c 600)"
  # One process, two programs: the chain's second exec is a record of its own with its argv.
  echo "exec chain: [$first] pid $p1, then [$second] pid $p2"
done
jq -e --arg p "$T/bin/suid-id" '.escalations[] | select(.exec_argv == [$p, "-u"] and .before.uid == 65534 and .after.euid == 0)' "$f" >/dev/null ||
  fail "setuid id as nobody is not an escalation naming it: $(jq -c .escalations "$f")"
g="$T/ebpf.loaded.json"
assert_eq "$(count "$g" '.argv[0:2] == ["/bin/true", "loaded"] and (.argv | length) == 3')" 100 "loaded /bin/true with full argv"
assert_eq "$(jq -r .tracking.lost_events "$g")" 0 "lost events under load"
ok "eBPF: 1000 spaced /bin/true, 100 busybox rm, 100 under 2,000 forks/s, the exec chains and the setuid id all with their argv"

# ---- the proc connector, eBPF disabled ----
export TTYAUDIT_TRACKER_EBPF=0
run_sessions procfs
f="$T/procfs.idle.json"
assert_eq "$(jq -r .tracking.source "$f")" proc_connector "tracking source with eBPF disabled"
assert_eq "$(jq -r .tracking.via "$f")" hub "tracking via"
# Every process is a record; its argv is best-effort (read from /proc when the exec is seen).
spaced=$(count "$f" '.argv[0:2] == ["/bin/true", "spaced"]')
((spaced >= 500)) || fail "proc connector: only $spaced of 1000 /bin/true spaced named"
trues=$(count "$f" .exec)
((trues >= 1100)) || fail "proc connector: only $trues exec records"
loaded=$(count "$T/procfs.loaded.json" '.argv[0:2] == ["/bin/true", "loaded"]')
((loaded >= 50)) || fail "proc connector: only $loaded of 100 loaded /bin/true named"
ok "proc connector: $spaced of 1000 spaced and $loaded of 100 loaded /bin/true named (best effort)"
