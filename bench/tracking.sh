#!/usr/bin/env bash
# Per-session cost of process tracking (common/proc_tracker.h) beside a busy host: a load forks
# RATE processes a second (each execs /bin/true: fork, exec and exit events), while N idle
# sessions (N = 0, 1, 10, 50) each run their own tracker, as N recorders would. Each tracker is
# `ttyaudit-hook track --stats -- sleep`, a separate process like a recorder. Measured: each
# tracker's CPU (getrusage) over the run as % of one core, events it read, its worst event lag,
# lost events, and the load's own CPU per fork (where the kernel's broadcast to N sockets is
# paid). Writes bench/results/tracking.json. Usage: BUILD=build bash bench/tracking.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export TTYAUDIT_BIN="${TTYAUDIT_BIN:-$ROOT/${BUILD:-build}/bin}"
. "$ROOT/tests/lib/common.sh"

RATE=${RATE:-2000}
SECS=${SECS:-10}
SESSIONS=${SESSIONS:-"0 1 10 50"}
LOADERS=${LOADERS:-2}
OUT="${OUT:-$ROOT/bench/results/tracking.json}"
HOOK="$BIN/ttyaudit-hook"
[[ -x "$HOOK" ]] || fail "no $HOOK (make)"
"$HOOK" track -- true >/dev/null 2>"$T/probe.err" || fail "proc connector: $(cat "$T/probe.err")"
cc -O2 -o "$T/load" "$ROOT/bench/tracking_load.c"

# run N WITH_LOAD: N idle trackers for SECS (+ load if WITH_LOAD=1); prints one JSON object.
run() {
  local n=$1 with_load=$2 i
  local pids=()
  for ((i = 0; i < n; i++)); do
    "$HOOK" track --stats --grace-ms 0 -- sleep "$((SECS + 1))" >/dev/null 2>"$T/s$i.stats" &
    pids+=($!)
    track_pid $!
  done
  sleep 0.5  # every tracker subscribed
  local load='null' l
  if ((with_load)); then
    # LOADERS processes share the rate: one forking process tops out near 1/(fork cost).
    for ((l = 0; l < LOADERS; l++)); do "$T/load" "$(echo "$RATE / $LOADERS" | bc -l)" "$SECS" >"$T/load$l.json" & done
    wait $(jobs -p | tail -n "$LOADERS")
    load=$(cat "$T"/load*.json | jq -s '{forks: (map(.forks) | add), seconds: (map(.seconds) | max),
      forks_per_s: (map(.forks_per_s) | add), parent_cpu_us_per_fork: (map(.parent_cpu_us_per_fork) | add / length)}')
    rm -f "$T"/load*.json
  else
    sleep "$SECS"
  fi
  for p in "${pids[@]}"; do wait "$p" || true; done
  local stats='[]'
  ((n)) && stats=$(for ((i = 0; i < n; i++)); do tail -n 1 "$T/s$i.stats"; done | jq -s .)
  jq -n --argjson n "$n" --argjson load "$load" --argjson s "$stats" '{
    sessions: $n,
    load: $load,
    per_session_cpu_pct_mean: (if $n > 0 then ([$s[] | .cpu_s / .wall_s * 100] | add / length) else null end),
    per_session_cpu_pct_max: (if $n > 0 then ([$s[] | .cpu_s / .wall_s * 100] | max) else null end),
    all_sessions_cpu_pct: (if $n > 0 then ([$s[] | .cpu_s / .wall_s * 100] | add) else 0 end),
    events_per_session_mean: (if $n > 0 then ([$s[] | .events_read] | add / length) else null end),
    events_per_s_per_session: (if $n > 0 then ([$s[] | .events_read / .wall_s] | add / length) else null end),
    cpu_us_per_event: (if $n > 0 then ([$s[] | .cpu_s * 1e6 / ([.events_read, 1] | max)] | add / length) else null end),
    max_lag_ms: (if $n > 0 then ([$s[] | .max_lag_ms] | max) else null end),
    lost_events: ([$s[] | .lost_events] | add // 0)
  }'
}

results=()
results+=("$(jq '. + {what: "1 idle session, no load"}' <<<"$(run 1 0)")")
for n in $SESSIONS; do
  results+=("$(jq --arg r "$RATE" '. + {what: ("\(.sessions) idle sessions beside \($r) forks/s")}' <<<"$(run "$n" 1)")")
  echo "${results[-1]}" | jq -c '{what, per_session_cpu_pct_mean, all_sessions_cpu_pct, max_lag_ms, lost_events, load}' >&2
done
printf '%s\n' "${results[@]}" | jq -s --arg date "$(date -u +%FT%TZ)" \
  --arg cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')" \
  --argjson cores "$(nproc)" --arg kernel "$(uname -r)" --argjson rate "$RATE" --argjson secs "$SECS" \
  --argjson loaders "$LOADERS" '{
  date: $date, cpu: $cpu, cores: $cores, kernel: $kernel,
  what: "per-session process tracking (proc connector, one socket per recorder) beside a fork load",
  load_target_forks_per_s: $rate, load_processes: $loaders, seconds: $secs,
  note: "load.forks_per_s is what the load achieved; the machine is shared, so it can fall short of the target",
  target_idle_session_cpu_pct_max: 1,
  runs: .,
  projected_idle_session_cpu_pct_at_target: (
    [.[] | select(.sessions > 0 and .load != null) | .cpu_us_per_event] | max * 3 * $rate / 1e4),
  projection: "cpu_us_per_event (worst run) x 3 events per process (fork, exec, exit) x the target rate: the machine is shared and the load may not reach the target"
}' >"$OUT"
echo "wrote $OUT" >&2
