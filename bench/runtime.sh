#!/usr/bin/env bash
# Benchmarks ttyaudit-runtime against plain runc, in one run, on a private containerd:
#  - bulk output of `ctr task exec -t ID cat FILE` (throughput as the client receives it), with
#    plain runc, with ttyaudit-runtime, and with the floor: bench/relay_runtime.cc, a runc wrapper
#    that puts a second pty in the same place as ttyaudit-runtime and only copies bytes through it,
#  - the added cost of a pass-through call (`ttyaudit-runtime state` vs `runc state`),
#  - the added time to the first byte of a terminal exec (`ctr task exec -t ID echo x`).
# Writes bench/results/runtime.json (or BENCH_OUT). Usage: BUILD=build bash bench/runtime.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export TTYAUDIT_BIN="${TTYAUDIT_BIN:-$ROOT/${BUILD:-build}/bin}"
. "$ROOT/tests/lib/common.sh"
. "$ROOT/tests/lib/rootfs.sh"
. "$ROOT/tests/lib/containerd.sh"
. "$ROOT/bench/lib/settle.sh"

BULK_MIB=${BULK_MIB:-128}
BULK_RUNS=${BULK_RUNS:-5}
STATE_RUNS=${STATE_RUNS:-300}
TTFB_RUNS=${TTFB_RUNS:-30}
OUT=${BENCH_OUT:-$ROOT/bench/results/runtime.json}
RUNC=$(command -v runc) || fail "runc not installed (make deps)"
RT="$BIN/ttyaudit-runtime"
# The floor: a measuring tool, built here, not by CMake (like bench/pty_harness.cc).
RELAY_RT="$ROOT/${BUILD:-build}/bench/ttyaudit_bench_relay_runtime"
mkdir -p "$(dirname "$RELAY_RT")"
if [ ! -x "$RELAY_RT" ] || [ "$ROOT/bench/relay_runtime.cc" -nt "$RELAY_RT" ]; then
  g++ -std=c++20 -O2 -Wall -Wextra -o "$RELAY_RT" "$ROOT/bench/relay_runtime.cc"
fi

make_busybox_rootfs "$T/rootfs"
(set +o pipefail; yes 'the quick brown fox jumps over the lazy dog 0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ' |
  head -c $((BULK_MIB << 20)) >"$T/rootfs/big.txt")
use_ttyaudit_config
start_containerd
ctr_run_bg plain "$T/rootfs" "$RUNC" -- sleep 100000
ctr_run_bg rec "$T/rootfs" "$RT" -- sleep 100000
# ctr's --runc-binary takes no arguments: a one-line wrapper names runc for the relay.
printf '#!/bin/sh\nexec %q %q "$@"\n' "$RELAY_RT" "$RUNC" >"$T/relay-runtime"
chmod +x "$T/relay-runtime"
ctr_run_bg relay "$T/rootfs" "$T/relay-runtime" -- sleep 100000
CTR=(ctr --address "$CTR_SOCK" -n "$CTR_NS" task exec --fifo-dir "$T/containerd/fifo")
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

since() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f\n", b - a}'; }  # START END: seconds
# recorders_done: every session in the spool is sealed (its manifest written) and its recorder
# gone (the .cast no longer locked).
recorders_done() {
  local c
  for c in "$SPOOL"/*.cast; do
    [ -e "$c" ] || continue
    [ -f "${c%.cast}.json" ] && flock -s -n "$c" true || return 1
  done
}

# Bulk: alternate plain, recorded and relayed runs so that all see the same machine state. The
# client must receive every byte through ttyaudit-runtime, as through plain runc: a path that lost
# output is no result. The relay has no exit hold (runtime/exit_hold.h), so the shim may stop
# reading before its last bytes; what it loses is noted, not a failure: a floor of speed only.
# Each run starts from a synced disk and an idle machine (bench/lib/settle.sh), and the next run
# only once the recorded run's recorder has sealed its session and exited: its final fsync must
# not slow the run after it.
echo "bulk: ${BULK_RUNS} x ${BULK_MIB} MiB through ctr task exec -t" >&2
want_bytes=
: >"$T/relay-lost"
: >"$T/rec-sealed-after.s"
: >"$T/idle-before"
for i in $(seq "$BULK_RUNS"); do
  for id in plain rec relay; do
    settle
    echo "$SETTLE_IDLE_PCT" >>"$T/idle-before"
    s=$(date +%s.%N)
    got=$(ctr_exec_tty "$id" "bulk-$id-$i" cat /big.txt | wc -c)
    e=$(date +%s.%N)
    since "$s" "$e" >>"$T/bulk-$id.s"
    : "${want_bytes:=$got}"
    if [ "$id" = relay ]; then
      echo $((want_bytes - got)) >>"$T/relay-lost"
    elif [ "$got" != "$want_bytes" ]; then
      fail "bulk run $i through $id: the client got $got bytes, not $want_bytes"
    fi
    if [ "$id" = rec ]; then
      wait_for 120 recorders_done
      since "$e" "$(date +%s.%N)" >>"$T/rec-sealed-after.s"
    fi
  done
  # Keep the disk from filling: the record is not measured. Sealed files are immutable until an
  # uploader takes them (record/spool_writer.h), and no uploader runs here.
  chattr -i "$SPOOL"/*.cast "$SPOOL"/*.json 2>/dev/null || true
  rm -f "$SPOOL"/*.cast "$SPOOL"/*.json
done
rec_sealed_after=$(median <"$T/rec-sealed-after.s")
min_idle=$(sort -n "$T/idle-before" | head -n 1)
bulk_plain=$(median <"$T/bulk-plain.s")
bulk_rec=$(median <"$T/bulk-rec.s")
bulk_relay=$(median <"$T/bulk-relay.s")

# Pass-through: the same `state` call through each binary, timed in one loop of many calls.
R="$RUNC_ROOT/$CTR_NS"
echo "state: ${STATE_RUNS} calls each" >&2
# perf stat -r: mean elapsed ms and mean task-clock (CPU) ms of one call.
perf_ms() {
  local out
  out=$(perf stat -x, -e task-clock -r "$STATE_RUNS" "$@" 2>&1 >/dev/null) || true
  local cpu elapsed
  cpu=$(awk -F, '/task-clock/ {print $1; exit}' <<<"$out")
  elapsed=$(perf stat -r "$STATE_RUNS" "$@" 2>&1 >/dev/null | awk '/seconds time elapsed/ {print $1 * 1000; exit}')
  echo "$elapsed $cpu"
}
# Alternate the two binaries over several rounds and keep each one's best round: the machine
# is shared, and the quietest round of each is the fairest comparison.
state_runc_ms=1e9 state_rt_ms=1e9 state_runc_cpu=1e9 state_rt_cpu=1e9
for _ in 1 2 3 4; do
  read -r e c < <(perf_ms "$RUNC" --root "$R" state plain)
  state_runc_ms=$(printf '%s\n%s\n' "$state_runc_ms" "$e" | sort -g | head -n 1)
  state_runc_cpu=$(printf '%s\n%s\n' "$state_runc_cpu" "$c" | sort -g | head -n 1)
  read -r e c < <(perf_ms "$RT" --root "$R" state plain)
  state_rt_ms=$(printf '%s\n%s\n' "$state_rt_ms" "$e" | sort -g | head -n 1)
  state_rt_cpu=$(printf '%s\n%s\n' "$state_rt_cpu" "$c" | sort -g | head -n 1)
done
# How busy the machine was: a bare exec of /bin/true (about 0.4 ms on an idle machine).
read -r true_ms _ < <(perf_ms /bin/true)
loadavg=$(cut -d' ' -f1 /proc/loadavg)

# Time to first byte of a terminal exec, and its total time.
echo "first byte: ${TTFB_RUNS} execs each" >&2
: >"$T/ttfb-plain.all"
: >"$T/ttfb-rec.all"
for i in $(seq "$TTFB_RUNS"); do
  for id in plain rec; do  # alternating, so that both see the same moments of the machine
    python3 "$ROOT/bench/runtime_ttfb.py" 1 -- "${CTR[@]}" --exec-id "ttfb-$id-$i" -t "$id" echo x |
      jq -c '.[0]' >>"$T/ttfb-$id.all"
  done
done
ttfb_plain=$(jq -r '.[0]' "$T/ttfb-plain.all" | median)
ttfb_rec=$(jq -r '.[0]' "$T/ttfb-rec.all" | median)
total_plain=$(jq -r '.[1]' "$T/ttfb-plain.all" | median)
total_rec=$(jq -r '.[1]' "$T/ttfb-rec.all" | median)

bytes=$((BULK_MIB << 20))
jq -n \
  --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  --arg cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')" \
  --argjson cores "$(nproc)" \
  --argjson mib "$BULK_MIB" --argjson runs "$BULK_RUNS" \
  --argjson bp "$bulk_plain" --argjson br "$bulk_rec" --argjson bl "$bulk_relay" \
  --argjson sealed "$rec_sealed_after" --argjson idle "$min_idle" \
  --argjson lost "$(jq -s . "$T/relay-lost")" \
  --argjson bytes "$bytes" \
  --argjson sr "$state_runc_ms" --argjson st "$state_rt_ms" --argjson sn "$STATE_RUNS" \
  --argjson src "$state_runc_cpu" --argjson stc "$state_rt_cpu" \
  --argjson truems "$true_ms" --argjson load "$loadavg" \
  --argjson tp "$ttfb_plain" --argjson tr "$ttfb_rec" --argjson tn "$TTFB_RUNS" \
  --argjson op "$total_plain" --argjson otot "$total_rec" \
  '{
    date: $date, cpu: $cpu, cores: $cores, loadavg_1m: $load, bin_true_exec_ms: $truems,
    bulk_output: {
      what: "ctr task exec -t ID cat FILE, client output to /dev/null, median of runs",
      mib: $mib, runs: $runs, min_idle_pct_before_a_run: $idle,
      plain_runc_s: $bp, ttyaudit_s: $br, ttyaudit_sealed_after_client_s: $sealed,
      plain_runc_mib_s: ($mib / $bp), ttyaudit_mib_s: ($mib / $br),
      ratio: ($bp / $br), target_ratio_min: 0.95,
      relay_floor: {
        what: "bench/relay_runtime.cc: a second pty in ttyaudit-runtime'"'"'s place, copying only",
        relay_s: $bl, relay_mib_s: ($mib / $bl),
        relay_ratio: ($bp / $bl), ttyaudit_vs_relay: ($bl / $br),
        relay_lost_tail_bytes_each: $lost
      }
    },
    passthrough_state: {
      what: "RUNTIME --root R state ID, perf stat -r: mean elapsed and CPU per call, best of 4 alternating rounds",
      calls: $sn, runc_ms: $sr, ttyaudit_ms: $st, added_ms: ($st - $sr), target_added_ms_max: 2,
      runc_cpu_ms: $src, ttyaudit_cpu_ms: $stc, added_cpu_ms: ($stc - $src)
    },
    first_byte: {
      what: "ctr task exec -t ID echo x: time to the first byte at the client, median",
      runs: $tn, plain_runc_ms: ($tp * 1000), ttyaudit_ms: ($tr * 1000),
      added_ms: (($tr - $tp) * 1000), target_added_ms_max: 20,
      exec_total_plain_ms: ($op * 1000), exec_total_ttyaudit_ms: ($otot * 1000)
    }
  }' | tee "$OUT"
