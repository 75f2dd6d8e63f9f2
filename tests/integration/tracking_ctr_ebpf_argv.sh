#!/usr/bin/env bash
# In a container (`ctr task exec -t` through ttyaudit-runtime), the node's hub reading with eBPF
# records the argv of processes that live a fraction of a millisecond: 100 busybox `true`
# applets, each with a marker argument, are 100 records each with its own full argv (read in the
# kernel at the exec, not from /proc after the process is gone). Their lifetimes, from the
# manifest, are reported, and the fastest must be under 2 ms (else the test is not testing
# short processes).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rootfs.sh"
. "$(dirname "$0")/../lib/containerd.sh"

require_tracking
start_ttyaudit_containerd
ctr_run_bg trk "$T/rootfs" "$BIN/ttyaudit-runtime" -- sleep 1000

cmd='i=0; while [ $i -lt 100 ]; do /bin/true shortmark $i; i=$((i+1)); done; echo short-done'
ctr_exec_tty trk shorts sh -c "$cmd" >"$T/shorts.out" 2>&1 ||
  fail "the exec failed: $(cat -v "$T/shorts.out")"
has_session() { [[ -n $(session_with_argv "short-done") ]]; }
wait_for 10 has_session
mapfile -t ids < <(session_with_argv "short-done")
((${#ids[@]} == 1)) ||
  fail "${#ids[@]} sessions running the loop (spool: $(ls "$SPOOL"); output: $(cat -v "$T/shorts.out" | tail -c 300))"
wait_sealed "${ids[0]}"
m="$SPOOL/${ids[0]}.json"
jq -e .commands "$m" >/dev/null || fail "manifest has no commands: $(head -c 600 "$m")"
src=$(jq -r .tracking.source "$m")
[[ $src == ebpf ]] || skip "the hub did not load its eBPF source (source: $src)"
assert_eq "$(jq -r .tracking.via "$m")" hub "tracked through the node's hub"
assert_eq "$(jq .tracking.lost_events "$m")" 0 "lost events"
assert_eq "$(jq '[.commands[] | select(.top_level and .exec)] | length' "$m")" 100 "records of /bin/true"
shorts='[.commands[] | select(.argv[0:2] == ["/bin/true", "shortmark"] and (.argv | length) == 3)]'
assert_eq "$(jq "$shorts | length" "$m")" 100 "/bin/true shortmark N with its full argv"
assert_eq "$(jq "$shorts | map(.argv[2]) | unique | length" "$m")" 100 "distinct marker arguments"
# Lifetimes (fork to exit, seconds in the manifest) in microseconds: min and median.
life=$(jq -c "$shorts | map(select(.end != null) | (.end - .start) * 1e6 | floor) | sort
  | {n: length, min_us: .[0], median_us: .[(length / 2 | floor)]}" "$m")
jq -e '.n == 100 and .min_us < 2000' <<<"$life" >/dev/null ||
  fail "the processes did not all end, or none was short: $life"
ok "container exec, eBPF: 100 busybox true with their full argv; lifetimes $life"
