#!/usr/bin/env bash
# Cost of process tracking (track/proc_tracker.h) beside a busy host: a load forks RATE
# processes a second (each execs /bin/true: fork, exec and exit events), while N idle sessions
# (N = 1, 10, 50) are tracked through the node's one tracker hub (ttyaudit-tracker), as N
# recorders would. Each session is `ttyaudit-tracker track --stats -- sleep`, a separate process
# like a recorder; the first starts the hub on demand. Measured per run, over the load window:
#  - the hub's CPU (its own getrusage, via `ttyaudit-tracker --stats`) as % of one core, the
#    events it read and routed, lost events (ENOBUFS), its worst lag (kernel -> routed);
#  - each idle session's CPU (getrusage) as % of one core and the events it was sent;
#  - a probe session that runs 100 short commands during the load, and one on the idle machine:
#    records, argv read, lag (kernel -> its recorder);
#  - the load average before and after (the machine is shared).
# Each run is made once per source of the hub (SOURCES: the eBPF source, and the proc connector
# with eBPF disabled), side by side in one benchmark; the summary compares them: argv read
# idle and loaded, the hub's CPU at the load, an idle session's CPU, the lag from the kernel's
# event to the recorder's table. Also the cost of a cheap syscall for every process of the
# node with no session, and with one tracked session per source (the eBPF source's sys_exit
# program runs at every syscall's return while a session is tracked).
# One run of 10 sessions with the old design (--local: every session reads the host's stream
# itself) is kept for comparison. Writes bench/results/tracking.json.
# Usage: BUILD=build bash bench/tracking.sh
#   (RATE, SECS, SESSIONS, LOADERS, COMPARE_LOCAL, SOURCES)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export TTYAUDIT_BIN="${TTYAUDIT_BIN:-$ROOT/${BUILD:-build}/bin}"
. "$ROOT/tests/lib/common.sh"  # TTYAUDIT_RUN_DIR=$T/run: the hub of this run, stopped at exit

RATE=${RATE:-2000}
SECS=${SECS:-10}
SESSIONS=${SESSIONS:-"1 10 50"}
LOADERS=${LOADERS:-2}
COMPARE_LOCAL=${COMPARE_LOCAL:-10}
SOURCES=${SOURCES:-"ebpf proc_connector"}
OUT="${OUT:-$ROOT/bench/results/tracking.json}"
TRACKER="$BIN/ttyaudit-tracker"
[[ -x "$TRACKER" ]] || fail "no $TRACKER (make)"
"$TRACKER" track --local -- true >/dev/null 2>"$T/probe.err" || fail "proc connector: $(cat "$T/probe.err")"
cc -O2 -o "$T/load" "$ROOT/bench/tracking_load.c"
cc -O2 -o "$T/syscall_cost" "$ROOT/bench/syscall_cost.c"
# A fresh hub per run (its counters and worst lag are the run's own): it exits 2 s after the
# run's last session.
export TTYAUDIT_TRACKER_IDLE_S=2

hub_stats() { "$TRACKER" --stats --run-dir "$TTYAUDIT_RUN_DIR"; }
subscribers_are() { [[ $(hub_stats 2>/dev/null | jq -r .subscribers) == "$1" ]]; }
no_hub() { [[ -z $(tracker_hub_pid) ]]; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# The probe session: 100 short commands (/bin/true lives about half a millisecond), 50 ms apart.
# Each argv is read from /proc when its exec event arrives, racing the process's exit.
run_probe() {
  "$TRACKER" track "${flag[@]}" --stats -- sh -c 'i=0; while [ $i -lt 100 ]; do /bin/true probe; sleep 0.05; i=$((i+1)); done' \
    >"$T/probe.json" 2>"$T/probe.stats"
}

# run N WITH_LOAD DESIGN (hub|local) [SOURCE]: prints one JSON object.
run() {
  local n=$1 with_load=$2 design=$3 source=${4:-proc_connector} i flag=()
  [[ $design == local ]] && flag=(--local)
  if [[ $source == ebpf ]]; then unset TTYAUDIT_TRACKER_EBPF; else export TTYAUDIT_TRACKER_EBPF=0; fi
  wait_for 10 no_hub
  local before_avg after_avg pids=()
  before_avg=$(loadavg)
  for ((i = 0; i < n; i++)); do
    "$TRACKER" track "${flag[@]}" --stats --grace-ms 0 -- sleep "$((SECS + 3))" >/dev/null 2>"$T/s$i.stats" &
    pids+=($!)
    track_pid $!
  done
  if [[ $design == hub ]]; then wait_for 20 subscribers_are "$n"; else sleep 1; fi
  local load='null' hub='null' probe='null' h0 hm='' h1='' l
  [[ $design == hub ]] && h0=$(hub_stats)
  if ((with_load)); then
    # LOADERS processes share the rate: one forking process tops out near 1/(fork cost).
    for ((l = 0; l < LOADERS; l++)); do "$T/load" "$(echo "$RATE / $LOADERS" | bc -l)" "$SECS" >"$T/load$l.json" & done
    # First half of the load: every session idle. Second half: a probe session runs 100 short
    # commands, 50 ms apart, beside the load (the hub reads every event while a session is busy).
    sleep "$(echo "$SECS / 2" | bc -l)"
    [[ $design == hub ]] && hm=$(hub_stats)
    run_probe &
    local probe_pid=$!
    wait $(jobs -p | grep -v "^$probe_pid\$" | tail -n "$LOADERS")
    [[ $design == hub ]] && h1=$(hub_stats)
    wait "$probe_pid" || true
    load=$(cat "$T"/load*.json | jq -s '{forks: (map(.forks) | add), seconds: (map(.seconds) | max),
      forks_per_s: (map(.forks_per_s) | add), parent_cpu_us_per_fork: (map(.parent_cpu_us_per_fork) | add / length)}')
    rm -f "$T"/load*.json
  else
    # No load: the probe runs on an idle machine, where each wake-up of the tracker may first
    # have to wake an idle CPU.
    sleep "$(echo "$SECS / 2" | bc -l)"
    [[ $design == hub ]] && hm=$(hub_stats)
    run_probe
    [[ $design == hub ]] && h1=$(hub_stats)
  fi
  probe=$(jq -c --argjson s "$(tail -n 1 "$T/probe.stats")" '{
    commands: ([.commands[] | select(.top_level and .exec and .argv[0] != "sleep")] | length),
    argv_read: ([.commands[] | select(.argv == ["/bin/true","probe"])] | length),
    expected: 100, lost_events: .tracking.lost_events, via: .tracking.via, source: .tracking.source,
    max_lag_ms: $s.max_lag_ms, events_sent: $s.events_read}' "$T/probe.json")
  if [[ $design == hub ]]; then
    [[ -n $h1 ]] || h1=$(hub_stats)
    [[ -n $hm ]] || hm=$h1
    # hub: the whole window; hub_idle: while every session was idle; hub_busy: with the probe.
    hub=$(jq -n --argjson a "$h0" --argjson m "$hm" --argjson b "$h1" '
      def span($x; $y): {
        cpu_pct: (if $y.uptime_s > $x.uptime_s then ($y.cpu_s - $x.cpu_s) / ($y.uptime_s - $x.uptime_s) * 100 else null end),
        events_read: ($y.events_read - $x.events_read),
        events_per_s: (if $y.uptime_s > $x.uptime_s then ($y.events_read - $x.events_read) / ($y.uptime_s - $x.uptime_s) else null end),
        events_routed: ($y.events_routed - $x.events_routed),
        us_per_event_read: (if $y.events_read > $x.events_read then ($y.cpu_s - $x.cpu_s) * 1e6 / ($y.events_read - $x.events_read) else null end),
        seconds: ($y.uptime_s - $x.uptime_s)};
      span($a; $b) + {source: $b.source, lost_events: $b.lost_events, max_routed_lag_ms: $b.max_routed_lag_ms,
        max_batch_lag_ms: $b.max_batch_lag_ms, subscribers: $a.subscribers,
        idle: span($a; $m), busy: span($m; $b)}')
  fi
  after_avg=$(loadavg)
  for p in "${pids[@]}"; do wait "$p" || true; done
  local stats
  stats=$(for ((i = 0; i < n; i++)); do tail -n 1 "$T/s$i.stats"; done | jq -s .)
  jq -n --argjson n "$n" --arg design "$design" --argjson load "$load" --argjson s "$stats" \
    --argjson hub "$hub" --argjson probe "$probe" --arg la0 "$before_avg" --arg la1 "$after_avg" '{
    sessions: $n, design: $design, source: (if $hub then $hub.source else "proc_connector" end),
    load: $load,
    hub: $hub,
    per_session_cpu_pct_mean: ([$s[] | .cpu_s / .wall_s * 100] | add / length),
    per_session_cpu_pct_max: ([$s[] | .cpu_s / .wall_s * 100] | max),
    all_sessions_cpu_pct: ([$s[] | .cpu_s / .wall_s * 100] | add),
    tracking_cpu_pct_total: (([$s[] | .cpu_s / .wall_s * 100] | add) + (if $hub then $hub.cpu_pct else 0 end)),
    events_per_session_mean: ([$s[] | .events_read] | add / length),
    max_lag_ms: ([$s[] | .max_lag_ms] + [if $probe then $probe.max_lag_ms else 0 end] | max),
    lost_events: (([$s[] | .lost_events] | add) + (if $hub then $hub.lost_events else 0 end)),
    via: ([$s[] | .via] | unique),
    probe: $probe,
    loadavg_before: $la0, loadavg_after: $la1
  }'
}

results=()
for src in $SOURCES; do
  results+=("$(jq --arg s "$src" '. + {what: "1 idle session and the probe, no load, hub reading \($s)"}' <<<"$(run 1 0 hub "$src")")")
  echo "${results[-1]}" | jq -c '{what, source, probe}' >&2
  for n in $SESSIONS; do
    results+=("$(jq --arg r "$RATE" --arg s "$src" '. + {what: ("\(.sessions) idle sessions beside \($r) forks/s, one hub reading \($s)")}' <<<"$(run "$n" 1 hub "$src")")")
    echo "${results[-1]}" | jq -c '{what, source, hub_idle: .hub.idle.cpu_pct, hub_busy: .hub.busy.cpu_pct, per_session_cpu_pct_mean, max_lag_ms, lost_events, probe, loadavg_after}' >&2
  done
done
if ((COMPARE_LOCAL > 0)); then
  results+=("$(jq --arg r "$RATE" '. + {what: ("\(.sessions) idle sessions beside \($r) forks/s, each reading the host stream itself (the old design)")}' <<<"$(run "$COMPARE_LOCAL" 1 local)")")
  echo "${results[-1]}" | jq -c '{what, per_session_cpu_pct_mean, all_sessions_cpu_pct, max_lag_ms, lost_events, probe}' >&2
fi
# A cheap syscall's cost for every process of the node: no session, then one idle session
# tracked through a hub reading each source.
syscall_cost() {  # SOURCE|none
  local c pid
  wait_for 10 no_hub
  if [[ $1 == none ]]; then
    c=$("$T/syscall_cost")
  else
    if [[ $1 == ebpf ]]; then unset TTYAUDIT_TRACKER_EBPF; else export TTYAUDIT_TRACKER_EBPF=0; fi
    "$TRACKER" track --grace-ms 0 -- sleep 30 >/dev/null 2>&1 &
    pid=$!
    track_pid "$pid"
    wait_for 20 subscribers_are 1
    c=$("$T/syscall_cost")
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  jq -c --arg s "$1" '. + {tracked_through: $s}' <<<"$c"
}
# Three rounds, the cases in turn, so that the machine's other load falls on each alike.
syscalls=$(for round in 1 2 3; do for src in none $SOURCES; do syscall_cost "$src"; done; done |
  jq -s 'group_by(.tracked_through) | map({tracked_through: .[0].tracked_through,
    ns_per_call_medians: map(.ns_per_call_median), ns_per_call_best_median: (map(.ns_per_call_median) | min)})')
echo "syscall cost: $(jq -c . <<<"$syscalls")" >&2

printf '%s\n' "${results[@]}" | jq -s --argjson syscalls "$syscalls" --arg date "$(date -u +%FT%TZ)" \
  --arg cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')" \
  --argjson cores "$(nproc)" --arg kernel "$(uname -r)" --argjson rate "$RATE" --argjson secs "$SECS" \
  --argjson loaders "$LOADERS" '{
  date: $date, cpu: $cpu, cores: $cores, kernel: $kernel,
  what: "process tracking through one node-wide hub (ttyaudit-tracker) beside a fork load",
  load_target_forks_per_s: $rate, load_processes: $loaders, seconds: $secs,
  note: "load.forks_per_s is what the load achieved; the machine is shared (loadavg_before/after per run), so it can fall short of the target. hub.cpu_pct is the one hub of the node; per_session_cpu_pct is what each idle recorder pays for tracking",
  target_idle_session_cpu_pct_max: 1,
  sources: ([.[] | select(.design == "hub")] | group_by(.source) | map({key: .[0].source, value: {
    argv_read_idle_pct: ([.[] | select(.load == null) | .probe.argv_read / .probe.expected * 100] | first),
    argv_read_loaded_pct: ([.[] | select(.load != null) | .probe.argv_read / .probe.expected * 100] | min),
    hub_cpu_pct_at_load_all_idle: ([.[] | select(.load != null) | .hub.idle.cpu_pct] | max),
    hub_cpu_pct_at_load_one_busy: ([.[] | select(.load != null) | .hub.busy.cpu_pct] | max),
    idle_session_cpu_pct_max: ([.[] | .per_session_cpu_pct_max] | max),
    exec_to_table_lag_ms_max: ([.[] | .probe.max_lag_ms] | max),
    lost_events: ([.[] | .lost_events] | add)}}) | from_entries),
  syscall_cost: $syscalls,
  runs: .
}' >"$OUT"
echo "wrote $OUT" >&2
