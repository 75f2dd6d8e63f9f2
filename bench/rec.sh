#!/usr/bin/env bash
# The recorder benchmark: ttyaudit rec against a bare pty, script(1), asciinema rec and tlog-rec,
# all under the same pty harness (bench/pty_harness.cc) and on the same output. ttyaudit_nochain
# is the same recorder built without its hash chain (TTYAUDIT_BENCH_NO_CHAIN, in a build dir of
# its own): the difference between the two is what the chain costs. Writes
# bench/results/rec.json and prints a Markdown table. See bench/README.md for what each figure means.
#
# Environment: BUILD (build dir, default build), ROUNDS (3: rounds of everything), FAST_ROUNDS (7:
# rounds of the bare pty, the relay, script and ttyaudit, which take seconds), BENCH_BYTES (134217728),
# LAT_N (2000 round trips per latency run), BENCH_TMP (scratch parent dir, default /tmp),
# BENCH_OUT (result file, default bench/results/rec.json).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
ROUNDS=${ROUNDS:-3}
FAST_ROUNDS=${FAST_ROUNDS:-7}
BYTES=${BENCH_BYTES:-134217728}
LAT_N=${LAT_N:-2000}
OUT=${BENCH_OUT:-$ROOT/bench/results/rec.json}
# Only a run that writes the committed result file puts its table into bench/README.md.
if [ -z "${BENCH_OUT:-}" ]; then export BENCH_README=$ROOT/bench/README.md; else unset BENCH_README; fi
TTYAUDIT=$BUILD/bin/ttyaudit
H=$BUILD/bench/ttyaudit_bench_pty
. "$ROOT/bench/lib/settle.sh"

[ -x "$TTYAUDIT" ] || { echo "rec.sh: $TTYAUDIT not built (make BUILD=...)" >&2; exit 1; }

# The harness is a measuring tool, not part of ttyaudit: built here, not by CMake.
mkdir -p "$BUILD/bench"
if [ ! -x "$H" ] || [ "$ROOT/bench/pty_harness.cc" -nt "$H" ]; then
  g++ -std=c++20 -O2 -Wall -Wextra -o "$H" "$ROOT/bench/pty_harness.cc"
fi

# The recorder without the hash chain: there is no config switch for it (a chain that could be
# turned off would prove nothing), so it is a build of its own, only of the lean binaries.
NOCHAIN_BUILD=$BUILD/bench-nochain
NOCHAIN_REC=$NOCHAIN_BUILD/bin/ttyaudit-rec
if [ ! -f "$NOCHAIN_BUILD/CMakeCache.txt" ]; then
  cmake -S "$ROOT" -B "$NOCHAIN_BUILD" -DTTYAUDIT_BENCH_NO_CHAIN=ON -DTTYAUDIT_EBPF=OFF >/dev/null
fi
cmake --build "$NOCHAIN_BUILD" -j "${JOBS:-2}" --target ttyaudit-rec ttyaudit-tracker >/dev/null ||
  { echo "rec.sh: cannot build the recorder without the chain" >&2; NOCHAIN_REC=; }

W=$(mktemp -d "${BENCH_TMP:-/tmp}/ttyaudit-bench.XXXXXX")
# ttyaudit rec starts the node's tracker hub on demand: here, one of this run's own, stopped at
# the end.
export TTYAUDIT_RUN_DIR=$W/ttyaudit-run
stop_hub() {
  local p
  p=$(cat "$TTYAUDIT_RUN_DIR/tracker.pid" 2>/dev/null) || return 0
  [[ $(cat "/proc/$p/comm" 2>/dev/null) == ttyaudit-track* ]] && kill "$p" 2>/dev/null
  return 0
}
trap 'stop_hub; chattr -R -i "$W/spool" 2>/dev/null; rm -rf "$W"' EXIT
# The hub works for ttyaudit's sessions in a process of its own, outside the recorder's tree:
# its CPU over a run is counted with the recorder's. "PID TICKS" of the running hub, or "- 0".
CLK_TCK=$(getconf CLK_TCK)
hub_ticks() {
  local p
  p=$(cat "$TTYAUDIT_RUN_DIR/tracker.pid" 2>/dev/null) &&
    [[ $(cat "/proc/$p/comm" 2>/dev/null) == ttyaudit-track* ]] &&
    awk -v p="$p" '{sub(/.*\) /, ""); print p, $12 + $13}' "/proc/$p/stat" 2>/dev/null && return 0
  echo "- 0"
}
hub_hwm_kib() {
  local p
  p=$(cat "$TTYAUDIT_RUN_DIR/tracker.pid" 2>/dev/null) || { echo 0; return 0; }
  awk '/^VmHWM:/ {print $2; f = 1} END {if (!f) print 0}' "/proc/$p/status" 2>/dev/null || echo 0
}
mkdir -p "$W/out" && mkdir -m 0700 -p "$W/spool"
printf '{"spool_dir":"%s"}\n' "$W/spool" >"$W/config.json"
export TTYAUDIT_CONFIG=$W/config.json
export BENCH_PRODUCER_RUSAGE=$W/producer.json
# The recorders see the same terminal type and shell whatever the caller's environment.
export TERM=xterm-256color SHELL=/bin/sh

# tlog-rec refuses to run ("Failed adding a utmp record") where /run/utmp does not exist, as in
# containers. Then run it in a private mount namespace with an empty utmp of its own; the host's
# /run is left alone.
TLOG=()
if command -v tlog-rec >/dev/null; then
  if [ -e /run/utmp ]; then
    TLOG=(tlog-rec)
  elif [ "$(id -u)" = 0 ] && unshare -m --propagation private true 2>/dev/null; then
    mkdir -p "$W/run" && : >"$W/run/utmp"
    # shellcheck disable=SC2016  # $0 and $@ are the inner shell's
    TLOG=(unshare -m --propagation private sh -c 'mount --bind "$0" /run && exec tlog-rec "$@"' "$W/run")
  fi
fi

# The command line of each recorder around COMMAND (a shell word list), recording into $W/out.
recorder_argv() {  # NAME COMMAND...
  local name=$1
  shift
  case $name in
    bare_pty) ARGV=("$@") ;;
    relay) ARGV=("$H" relay -- "$@") ;;
    script) ARGV=(script -q -c "$*" "$W/out/script.log") ;;
    asciinema) ARGV=(asciinema rec -q -c "$*" "$W/out/asciinema.cast") ;;
    tlog_rec) ARGV=("${TLOG[@]}" -w file -o "$W/out/tlog.json" "$@") ;;
    ttyaudit) ARGV=("$TTYAUDIT" rec -q -o "$W/spool" -- "$@") ;;
    # What `ttyaudit rec` execs (cli/rec_main.cc), here the build without the chain.
    ttyaudit_nochain) ARGV=("$NOCHAIN_REC" --spool "$W/spool" -q -- "$@") ;;
    # The "before" of the sandbox (sandbox/sandbox.h): no seccomp filter, capabilities,
    # no_new_privs or cgroup of its own. What they cost is ttyaudit against this, in one run.
    ttyaudit_nosandbox) ARGV=(env TTYAUDIT_SANDBOX=off "$TTYAUDIT" rec -q -o "$W/spool" -- "$@") ;;
  esac
}

available() {
  case $1 in
    script) command -v script >/dev/null ;;
    asciinema) command -v asciinema >/dev/null ;;
    tlog_rec) [ ${#TLOG[@]} -gt 0 ] ;;
    ttyaudit_nochain) [ -n "$NOCHAIN_REC" ] && [ -x "$NOCHAIN_REC" ] ;;
    *) true ;;
  esac
}

recorded_bytes() {  # total size of the files the recorder wrote (0 for the bare pty)
  find "$W/out" "$W/spool" -type f -printf '%s\n' | awk '{n += $1} END {print n + 0}'
}

RAW=$W/raw.jsonl
: >"$RAW"
RECORDERS=(bare_pty relay script asciinema tlog_rec ttyaudit ttyaudit_nochain ttyaudit_nosandbox)
MISSING=()
for r in "${RECORDERS[@]}"; do available "$r" || MISSING+=("$r"); done

run_tput() {  # NAME ROUND [BYTES]
  local name=$1 round=$2 bytes=${3:-$BYTES}
  recorder_argv "$name" "$H" produce "$bytes"
  chattr -R -i "$W/spool" 2>/dev/null || true  # sealed sessions are immutable
  rm -rf "$W/out"/* "$W/spool"/* "$BENCH_PRODUCER_RUSAGE"
  # No run pays for an earlier one's files: the kernel writes back what a recorder left dirty
  # (script, asciinema and tlog-rec never fsync) while the next one runs, unless it is done now;
  # nor for other work on the machine. A recorder's own fsyncs (ttyaudit's every second and at
  # the seal) stay in its own time: the clock runs until the recorder has exited.
  settle
  local idle=$SETTLE_IDLE_PCT line hub_pid0 hub_t0 hub_pid1 hub_t1
  read -r hub_pid0 hub_t0 < <(hub_ticks)
  if ! line=$("$H" tput "$name" -- "${ARGV[@]}") || [ -z "$line" ]; then
    echo "rec.sh: $name (round $round) timed out: $line" >&2
    return 0
  fi
  # The hub's CPU over the run (all of it when the run started the hub).
  read -r hub_pid1 hub_t1 < <(hub_ticks)
  [[ $hub_pid1 == "$hub_pid0" ]] || hub_t0=0
  local hub
  hub=$(awk -v t="$((hub_t1 - hub_t0))" -v hz="$CLK_TCK" -v m="$(hub_hwm_kib)" \
    'BEGIN {printf "{\"cpu_s\":%.2f,\"hwm_kib\":%d}", t / hz, m}')
  local prod='null'
  [ -s "$BENCH_PRODUCER_RUSAGE" ] && prod=$(cat "$BENCH_PRODUCER_RUSAGE")
  printf '{"kind":"tput","round":%d,"bytes":%d,"recorded_bytes":%d,"idle_pct_before":%d,"hub":%s,"producer":%s,"run":%s}\n' \
    "$round" "$bytes" "$(recorded_bytes)" "$idle" "$hub" "$prod" "$line" >>"$RAW"
  python3 -c '
import json, sys
r = json.loads(sys.argv[1])
note = "" if r["ok"] else "  (no end marker: the terminal got only %d bytes)" % r["bytes_seen"]
print("  %-10s round %s: %6.2f s to exit (end marker at %.2f s)%s" % (r["name"], sys.argv[2],
      r["exit_wall_s"] if r["ok"] else r["last_byte_s"], r["wall_s"], note))
' "$line" "$round" >&2
}

# Keystroke latency is measured twice. Pinned: every process of the test on one CPU (the last),
# so that each wake-up is a context switch on that CPU, the same for every recorder; this is the
# figure the targets are judged on. Unpinned: wherever the scheduler puts them; on a VM a wake-up
# across CPUs costs an inter-processor interrupt, which doubles the round trip or not depending on
# where the processes happen to land, so these figures vary from run to run.
LAT_CPU=$(($(nproc) - 1))
run_lat() {  # KIND ROUND NAME... (all at once, keystrokes alternating between them)
  local kind=$1 round=$2 args=() name pin=()
  shift 2
  for name in "$@"; do
    available "$name" || continue
    recorder_argv "$name" "$H" echo
    [ ${#args[@]} -gt 0 ] && args+=(",,")
    args+=("$name" -- "${ARGV[@]}")
  done
  if [ "$kind" = lat ] && command -v taskset >/dev/null; then
    pin=(taskset -c "$LAT_CPU")
    # As root, also at nice -20 (for about a second a round): the other work on that CPU then
    # delays a wake-up less. The kernel's kworkers that move bytes across a pty stay at nice 0.
    if [ "$(id -u)" = 0 ]; then pin=(nice -n -20 "${pin[@]}"); fi
  fi
  [ "$kind" = lat ] && [ ${#pin[@]} -eq 0 ] && kind=lat_unpinned
  chattr -R -i "$W/spool" 2>/dev/null || true
  rm -rf "$W/out"/* "$W/spool"/*
  settle
  local out
  if ! out=$("${pin[@]}" "$H" lat "$LAT_N" "${args[@]}"); then
    echo "rec.sh: latency run ($kind, round $round) failed" >&2
    return 0
  fi
  while read -r line; do
    printf '{"kind":"%s","round":%d,"run":%s}\n' "$kind" "$round" "$line" >>"$RAW"
  done <<<"$out"
}

SLOW=" asciinema tlog_rec "
ALL_ROUNDS=$((FAST_ROUNDS > ROUNDS ? FAST_ROUNDS : ROUNDS))
echo "rec.sh: $BYTES bytes through each recorder, $ROUNDS rounds (asciinema, tlog-rec) or" \
  "$FAST_ROUNDS (the others)${MISSING:+; missing: ${MISSING[*]}}" >&2
START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
for ((round = 0; round < ALL_ROUNDS; round++)); do
  # Interleaved, and the order rotates each round, so that a burst of load elsewhere on the machine
  # does not land on the same recorder every time.
  n=${#RECORDERS[@]}
  for ((i = 0; i < n; i++)); do
    r=${RECORDERS[$(((i + round) % n))]}
    if ((round >= ROUNDS)) && [[ $SLOW == *" $r "* ]]; then continue; fi
    if ((round >= FAST_ROUNDS)) && [[ $SLOW != *" $r "* ]]; then continue; fi
    available "$r" && run_tput "$r" "$round"
  done
  # Keystroke round trips with and without ttyaudit (and script(1) for reference), the three
  # sessions open at once and the keystrokes alternating between them.
  if ((round < FAST_ROUNDS)); then
    run_lat lat "$round" bare_pty ttyaudit ttyaudit_nochain script relay ttyaudit_nosandbox
    run_lat lat_unpinned "$round" bare_pty ttyaudit ttyaudit_nochain script relay ttyaudit_nosandbox
  fi
done
# Peak RSS against session size: the same recorder on a session 1/8 the size.
run_tput ttyaudit 0 $((BYTES / 8))
echo "rec.sh: measured in $(($(date +%s) - START)) s" >&2

mkdir -p "$(dirname "$OUT")"
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
# Which ttyaudit was measured: the commit, and whether the recorder's sources differed from it.
BENCH_COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
BENCH_DIRTY=$(git -C "$ROOT" status --porcelain -- common cli CMakeLists.txt 2>/dev/null |
  awk '{print $2}' | tr '\n' ' ')
export BENCH_COMMIT BENCH_DIRTY
python3 - "$RAW" "$OUT" "$BYTES" "$ROUNDS" "$FAST_ROUNDS" "$LAT_N" "$LOAD_START" "$LOAD_END" \
  "${MISSING[*]:-}" <<'PY'
import json, os, platform, statistics, sys, time

raw, out, nbytes, rounds, fast_rounds, lat_n, load_start, load_end, missing = sys.argv[1:10]
nbytes, rounds, fast_rounds, lat_n = int(nbytes), int(rounds), int(fast_rounds), int(lat_n)
MIB, GIB = 1 << 20, 1 << 30
rows = [json.loads(l) for l in open(raw) if l.strip()]
names = ["bare_pty", "relay", "script", "asciinema", "tlog_rec", "ttyaudit", "ttyaudit_nochain",
         "ttyaudit_nosandbox"]
med = lambda xs: statistics.median(xs) if xs else None
rnd = lambda x, d=2: None if x is None else round(x, d)

def recorder_cpu(r):
    run, prod = r["run"], r["producer"] or {"user_s": 0, "sys_s": 0}
    tree = run["tree_user_s"] + run["tree_sys_s"]
    if run["name"] == "bare_pty":
        return 0.0  # no recorder: the producer is the whole tree
    # ttyaudit's tracker hub works for the session outside the recorder's tree: counted too.
    hub = r["hub"]["cpu_s"] if run["name"].startswith("ttyaudit") else 0.0
    return max(0.0, tree - prod["user_s"] - prod["sys_s"]) + hub

def run_secs(r):
    # What the user waits for: until the recorder has exited (for ttyaudit, sealed: the final
    # fsync and the fdatasync thread joined). A run without the end marker: to its last byte.
    return r["run"]["exit_wall_s"] if r["run"]["ok"] else r["run"]["last_byte_s"]

# The bytes the terminal sees when nothing is lost (output plus the pty's CR before each LF).
complete = max([r["run"]["bytes_seen"] for r in rows if r["kind"] == "tput" and r["bytes"] == nbytes
                and r["run"]["ok"]] or [0])
recorders, per_round = {}, {}
for name in names:
    runs = [r for r in rows if r["kind"] == "tput" and r["run"]["name"] == name
            and r["bytes"] == nbytes]
    if not runs:
        continue
    # A run without the end marker lost the tail of the output: timed to its last byte, and
    # counted in lost_output_runs.
    secs = [run_secs(r) for r in runs]
    tput = [nbytes / MIB / t for t in secs]
    for r, t in zip(runs, tput):
        per_round.setdefault(r["round"], {})[name] = t
    cpu = [recorder_cpu(r) / (nbytes / GIB) for r in runs]
    tree_cpu = [(r["run"]["tree_user_s"] + r["run"]["tree_sys_s"]) / (nbytes / GIB) for r in runs]
    hwm = [r["run"]["hwm_kib"] for r in runs if r["run"]["hwm_kib"] > 0]
    lost = [complete - r["run"]["bytes_seen"] for r in runs if not r["run"]["ok"]]
    recorders[name] = {
        "throughput_mib_s": rnd(med(tput), 1),
        "throughput_mib_s_best": rnd(max(tput), 1),
        "cpu_s_per_gib": rnd(med(cpu)),
        "cpu_s_per_gib_with_producer": rnd(med(tree_cpu)),
        "peak_rss_kib": max(hwm) if hwm else None,
        "peak_rss_kib_tree": max(r["run"]["tree_maxrss_kib"] for r in runs),
        "recorded_bytes": int(med([r["recorded_bytes"] for r in runs])),
        "end_marker_s_each": [round(r["run"]["wall_s"], 3) for r in runs],
        "exit_s_each": [round(r["run"]["exit_wall_s"], 3) for r in runs],
        "idle_pct_before_each": [r["idle_pct_before"] for r in runs],
        "runs": len(runs),
        "lost_output_runs": len(lost),
        "lost_output_bytes_each": lost,
        "throughput_mib_s_each": [round(t, 1) for t in tput],
        "cpu_s_per_gib_each": [round(c, 2) for c in cpu],
    }
    if name.startswith("ttyaudit"):
        # Included in cpu_s_per_gib above; its memory is the node's one hub's, shared by every
        # session, so it is shown apart from the recorder's peak RSS.
        recorders[name]["hub_cpu_s_per_gib"] = rnd(med([r["hub"]["cpu_s"] / (nbytes / GIB)
                                                        for r in runs]))
        recorders[name]["hub_peak_rss_kib"] = max(r["hub"]["hwm_kib"] for r in runs)

def ratio(a, b):
    if a not in recorders or b not in recorders:
        return None, []
    each = [pr[a] / pr[b] for pr in per_round.values() if a in pr and b in pr]
    return rnd(recorders[a]["throughput_mib_s"] / recorders[b]["throughput_mib_s"]), [round(x, 2) for x in each]

ratios, ratios_each, ratios_best = {}, {}, {}
for other in ["script", "tlog_rec", "asciinema", "bare_pty", "relay"]:
    ratios["ttyaudit_vs_" + other], ratios_each["ttyaudit_vs_" + other] = ratio("ttyaudit", other)
    if "ttyaudit" in recorders and other in recorders:
        # Best against best: the least-disturbed run of each, a check on the medians when the
        # machine is busy.
        ratios_best["ttyaudit_vs_" + other] = rnd(recorders["ttyaudit"]["throughput_mib_s_best"] /
                                                  recorders[other]["throughput_mib_s_best"])

cpu_ratios = {}
for other in ["script", "tlog_rec", "asciinema"]:
    if "ttyaudit" in recorders and other in recorders and recorders["ttyaudit"]["cpu_s_per_gib"]:
        cpu_ratios["%s_cpu_over_ttyaudit_cpu" % other] = rnd(
            recorders[other]["cpu_s_per_gib"] / recorders["ttyaudit"]["cpu_s_per_gib"])

def latency_of(kind):
    lat = {}
    for name in ["bare_pty", "ttyaudit", "ttyaudit_nochain", "script", "relay", "ttyaudit_nosandbox"]:
        runs = [r["run"] for r in rows if r["kind"] == kind and r["run"]["name"] == name]
        if runs:
            lat[name] = {"p10": rnd(med([x["p10_us"] for x in runs]), 1),
                         "median": rnd(med([x["median_us"] for x in runs]), 1),
                         "p99": rnd(med([x["p99_us"] for x in runs]), 1),
                         "recorder_cpu_us_per_keystroke": rnd(med(
                             [x["child_cpu_us_per_keystroke"] for x in runs]), 1),
                         "median_each": [x["median_us"] for x in runs],
                         "p99_each": [x["p99_us"] for x in runs], "n_each": runs[0]["n"]}
    out = {"bare": lat.get("bare_pty"), "ttyaudit": lat.get("ttyaudit"), "script": lat.get("script"),
           "relay": lat.get("relay"), "ttyaudit_nochain": lat.get("ttyaudit_nochain"),
           "ttyaudit_nosandbox": lat.get("ttyaudit_nosandbox")}
    if lat.get("bare_pty") and lat.get("ttyaudit"):
        for q in ["p10", "median", "p99"]:
            out["added_" + q] = rnd(lat["ttyaudit"][q] - lat["bare_pty"][q], 1)
    if lat.get("bare_pty") and lat.get("relay"):
        # What a second pty and a process that copies through it cost alone: the floor.
        out["added_by_relay_median"] = rnd(lat["relay"]["median"] - lat["bare_pty"]["median"], 1)
    return out

latency = latency_of("lat")
latency["pinned_to_one_cpu"] = any(r["kind"] == "lat" for r in rows)
latency["nice_minus_20"] = os.getuid() == 0
latency_unpinned = latency_of("lat_unpinned")

small = [r for r in rows if r["kind"] == "tput" and r["run"]["name"] == "ttyaudit" and r["bytes"] != nbytes]
rss_by_size = {}
if small and "ttyaudit" in recorders:
    rss_by_size = {str(small[0]["bytes"]): small[0]["run"]["hwm_kib"],
                   str(nbytes): recorders["ttyaudit"]["peak_rss_kib"]}

noisy_tail = bool(latency.get("bare") and latency["bare"]["p99"] > 1000)
latency["tail_too_noisy_to_judge"] = noisy_tail

def met(value, ok):
    return None if value is None else bool(ok(value))

tt = recorders.get("ttyaudit", {})
rss_all = [v for v in list(rss_by_size.values()) + [tt.get("peak_rss_kib")] if v]
targets = {
    "throughput_ge_1.0x_script": met(ratios["ttyaudit_vs_script"], lambda v: v >= 1.0),
    "throughput_ge_2x_tlog_rec": met(ratios["ttyaudit_vs_tlog_rec"], lambda v: v >= 2.0),
    "throughput_ge_3x_asciinema": met(ratios["ttyaudit_vs_asciinema"], lambda v: v >= 3.0),
    "added_latency_median_le_50us": met(latency.get("added_median"), lambda v: v <= 50),
    # When the bare pty's own p99 is over 1 ms, the tail is the machine's scheduling noise (other
    # processes holding both cores for a tick or more), not the recorder: no verdict then.
    "added_latency_p99_le_200us": None if noisy_tail else met(latency.get("added_p99"),
                                                             lambda v: v <= 200),
    "recorder_peak_rss_le_4mib": met(max(rss_all) if rss_all else None, lambda v: v <= 4096),
}
# The floor: a relay that copies between the two ptys and records nothing. A target above what
# the relay itself reaches cannot be met by any recorder that sits between two ptys here.
floor = {}
if "relay" in recorders:
    rl = recorders["relay"]["throughput_mib_s"]
    for other in ["script", "tlog_rec", "asciinema"]:
        if other in recorders:
            floor["relay_vs_" + other] = rnd(rl / recorders[other]["throughput_mib_s"])
    if "ttyaudit" in recorders:
        floor["ttyaudit_vs_relay"] = rnd(recorders["ttyaudit"]["throughput_mib_s"] / rl)
    if "ttyaudit_nochain" in recorders:
        floor["ttyaudit_nochain_vs_relay"] = rnd(recorders["ttyaudit_nochain"]["throughput_mib_s"] / rl)
    floor["relay_added_latency_median_us"] = latency.get("added_by_relay_median")

# What the hash chain costs: the same recorder with and without it, in the same rounds.
chain_cost = {}
if "ttyaudit" in recorders and "ttyaudit_nochain" in recorders:
    chain_cost["throughput_with_over_without"], chain_cost["throughput_with_over_without_each"] = \
        ratio("ttyaudit", "ttyaudit_nochain")
    chain_cost["cpu_s_per_gib_added"] = rnd(recorders["ttyaudit"]["cpu_s_per_gib"] -
                                            recorders["ttyaudit_nochain"]["cpu_s_per_gib"])
    chain_cost["recorded_bytes_added"] = (recorders["ttyaudit"]["recorded_bytes"] -
                                          recorders["ttyaudit_nochain"]["recorded_bytes"])
for title, lt in [("latency_us", latency), ("latency_us_unpinned", latency_unpinned)]:
    if lt.get("ttyaudit") and lt.get("ttyaudit_nochain"):
        chain_cost[title + "_added_median"] = rnd(lt["ttyaudit"]["median"] -
                                                 lt["ttyaudit_nochain"]["median"], 1)
        chain_cost[title + "_added_p99"] = rnd(lt["ttyaudit"]["p99"] - lt["ttyaudit_nochain"]["p99"], 1)
# What the sandbox costs (seccomp filter, capabilities, no_new_privs, the recorder's cgroup):
# ttyaudit against ttyaudit with TTYAUDIT_SANDBOX=off, both against the relay floor.
sandbox = {}
if "ttyaudit" in recorders and "ttyaudit_nosandbox" in recorders:
    on, off = recorders["ttyaudit"], recorders["ttyaudit_nosandbox"]
    sandbox["throughput_mib_s"] = {"on": on["throughput_mib_s"], "off": off["throughput_mib_s"]}
    sandbox["throughput_on_over_off"], sandbox["throughput_on_over_off_each_round"] = \
        ratio("ttyaudit", "ttyaudit_nosandbox")
    sandbox["cpu_s_per_gib"] = {"on": on["cpu_s_per_gib"], "off": off["cpu_s_per_gib"]}
    if "relay" in recorders:
        rl = recorders["relay"]["throughput_mib_s"]
        sandbox["vs_relay"] = {"on": rnd(on["throughput_mib_s"] / rl),
                               "off": rnd(off["throughput_mib_s"] / rl)}
    for kind, lt in [("latency_us", latency), ("latency_us_unpinned", latency_unpinned)]:
        if lt.get("ttyaudit") and lt.get("ttyaudit_nosandbox") and lt.get("bare"):
            sandbox[kind] = {
                "median_on": lt["ttyaudit"]["median"], "median_off": lt["ttyaudit_nosandbox"]["median"],
                "p99_on": lt["ttyaudit"]["p99"], "p99_off": lt["ttyaudit_nosandbox"]["p99"],
                "added_by_sandbox_median": rnd(lt["ttyaudit"]["median"] - lt["ttyaudit_nosandbox"]["median"], 1),
                "relay_median": lt["relay"]["median"] if lt.get("relay") else None,
            }

cpu_model = ""
try:
    for l in open("/proc/cpuinfo"):
        if l.startswith("model name"):
            cpu_model = l.split(":", 1)[1].strip()
            break
except OSError:
    pass
result = {
    "machine": {"nproc": os.cpu_count(), "kernel": platform.release(), "cpu": cpu_model,
                "loadavg_start": load_start, "loadavg_end": load_end},
    "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "ttyaudit_commit": os.environ.get("BENCH_COMMIT"),
    "uncommitted_changes_in_common_cli": os.environ.get("BENCH_DIRTY", "").split(),
    "output_bytes": nbytes, "rounds": rounds, "fast_rounds": fast_rounds,
    "latency_round_trips": lat_n,
    "missing_recorders": missing.split() if missing else [],
    "recorders": recorders, "ratios": ratios, "ratios_each_round": ratios_each,
    "ratios_best_run": ratios_best, "cpu_ratios": cpu_ratios,
    "latency_us": latency, "latency_us_unpinned": latency_unpinned, "ttyaudit_peak_rss_kib_by_session_bytes": rss_by_size,
    "targets": targets, "relay_floor": floor, "chain_cost": chain_cost, "sandbox_cost": sandbox,
}
with open(out, "w") as f:
    json.dump(result, f, indent=2)
    f.write("\n")

import builtins, io, re
table = io.StringIO()
print = lambda *a, **k: builtins.print(*a, **k, file=table)
fmt = lambda v, spec="{:.1f}": "n/a" if v is None else spec.format(v)
print(f"\nRecorders on {nbytes // MIB} MiB of output, median of {rounds} rounds "
      f"({fast_rounds} for bare_pty, relay, script, ttyaudit) "
      f"({os.cpu_count()} cores, load {load_start} -> {load_end}):\n")
print("| recorder | throughput MiB/s | ttyaudit is x faster | recorder CPU s/GiB | peak RSS KiB | runs that lost output |")
print("|---|---:|---:|---:|---:|---:|")
for name in names:
    if name not in recorders:
        print(f"| {name} | not installed | | | | |")
        continue
    r = recorders[name]
    x = None if name == "ttyaudit" else ratios.get("ttyaudit_vs_" + name)
    print(f"| {name} | {fmt(r['throughput_mib_s'])} | {fmt(x, '{:.2f}x')} | "
          f"{fmt(r['cpu_s_per_gib'], '{:.2f}')} | {fmt(r['peak_rss_kib'], '{}')} | "
          f"{r['lost_output_runs']} of {r['runs']} |")
for title, lt in [("one CPU", latency), ("unpinned", latency_unpinned)]:
    if not lt.get("bare"):
        continue
    print(f"\n| keystroke round trip ({title}) | p10 us | median us | p99 us | recorder CPU us per keystroke |")
    print("|---|---:|---:|---:|---:|")
    for key, label in [("bare", "bare pty"), ("relay", "relay (the floor)"), ("ttyaudit", "ttyaudit rec"),
                       ("ttyaudit_nochain", "ttyaudit rec, no chain"),
                       ("ttyaudit_nosandbox", "ttyaudit rec, sandbox off"),
                       ("script", "script (reference)")]:
        v = lt.get(key)
        if v:
            cpu = "(the echo: %s)" % fmt(v["recorder_cpu_us_per_keystroke"]) if key == "bare" else \
                fmt(v["recorder_cpu_us_per_keystroke"])
            print(f"| {label} | {fmt(v['p10'])} | {fmt(v['median'])} | {fmt(v['p99'])} | {cpu} |")
    if "added_median" in lt:
        print(f"| added by ttyaudit | {fmt(lt['added_p10'])} | {fmt(lt['added_median'])} | "
              f"{fmt(lt['added_p99'])} | |")
if "ttyaudit" in recorders:
    tr = recorders["ttyaudit"]
    print(f"\nttyaudit's CPU includes its tracker hub's ({fmt(tr['hub_cpu_s_per_gib'], '{:.2f}')} s/GiB); "
          f"the hub's own peak RSS: {tr['hub_peak_rss_kib']} KiB. Throughput is timed until the "
          "recorder has exited (ttyaudit: sealed, its last fsync done).")
print("\nttyaudit against the others, best run against best run: " +
      ", ".join(f"{k.split('_vs_')[1]} {v:.2f}x" for k, v in ratios_best.items() if v is not None) +
      "; recorder CPU of the others over ttyaudit's: " +
      ", ".join(f"{k.split('_cpu')[0]} {v:.2f}x" for k, v in cpu_ratios.items() if v is not None))
if floor:
    print("\nThe floor, a relay that copies between the two ptys and records nothing: " +
          ", ".join(f"{k.replace('_vs_', ' vs ')} {v:.2f}x" for k, v in floor.items()
                    if v is not None and "_vs_" in k) +
          (f"; it adds {floor['relay_added_latency_median_us']:.1f} us to the median round trip"
           if floor.get("relay_added_latency_median_us") is not None else ""))
if chain_cost:
    print("\nThe hash chain's cost (ttyaudit against the same recorder built without it): throughput "
          f"{fmt(chain_cost.get('throughput_with_over_without'), '{:.2f}x')}, recorder CPU "
          f"{fmt(chain_cost.get('cpu_s_per_gib_added'), '{:+.2f}')} s/GiB, "
          f"{chain_cost.get('recorded_bytes_added', 0):+d} bytes recorded; keystroke round trip median "
          f"{fmt(chain_cost.get('latency_us_added_median'), '{:+.1f}')} us (one CPU), "
          f"{fmt(chain_cost.get('latency_us_unpinned_added_median'), '{:+.1f}')} us (unpinned)")
if sandbox:
    lt = sandbox.get("latency_us", {})
    print("\nThe sandbox (seccomp, capabilities, no_new_privs, own cgroup), on against off in this run: "
          f"throughput {fmt(sandbox['throughput_mib_s']['on'])} against "
          f"{fmt(sandbox['throughput_mib_s']['off'])} MiB/s "
          f"({fmt(sandbox['throughput_on_over_off'], '{:.2f}x')}"
          + (f"; of the relay floor {sandbox['vs_relay']['on']:.2f}x against {sandbox['vs_relay']['off']:.2f}x"
             if sandbox.get("vs_relay") else "") + ")"
          + (f"; keystroke median {fmt(lt.get('median_on'))} against {fmt(lt.get('median_off'))} us "
             f"(relay {fmt(lt.get('relay_median'))} us), p99 {fmt(lt.get('p99_on'))} against "
             f"{fmt(lt.get('p99_off'))} us" if lt else ""))
print("\n| target | met |")
print("|---|---|")
for k, v in targets.items():
    why = " (the bare pty's own p99 was over 1 ms: scheduling noise)" if v is None and "p99" in k and noisy_tail else ""
    print(f"| {k} | {'n/a' if v is None else ('yes' if v else 'NO')}{why} |")

print = builtins.print
print(table.getvalue(), end="")
readme = os.environ.get("BENCH_README")
if readme and os.path.exists(readme):
    # The README shows the committed result: the table between the markers is replaced.
    text = open(readme).read()
    begin, end = "<!-- rec.sh results: begin -->\n", "<!-- rec.sh results: end -->\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        body = (f"`make bench` on {result['date']}, ttyaudit {result['ttyaudit_commit']} "
                f"(bench/results/rec.json has every run):\n" + table.getvalue())
        open(readme, "w").write(head + begin + body + end + tail)
PY
