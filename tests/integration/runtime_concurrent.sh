#!/usr/bin/env bash
# 20 concurrent `ctr task exec -t`, 10 in each of two containers: every exec is recorded
# completely and exactly once.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rootfs.sh"
. "$(dirname "$0")/../lib/containerd.sh"

start_ttyaudit_containerd
ctr_run_bg ca "$T/rootfs" "$BIN/ttyaudit-runtime" -- sleep 1000
ctr_run_bg cb "$T/rootfs" "$BIN/ttyaudit-runtime" -- sleep 1000

pids=()
for i in $(seq 1 20); do
  c=ca
  ((i % 2)) && c=cb
  ctr_exec_tty "$c" "conc-$i" sh -c "echo start-$i; sleep 1; for j in 1 2 3 4 5; do echo line-$i-\$j; done; echo end-$i; exit $((i % 5))" \
    >"$T/client-$i.out" 2>&1 &
  pids+=($!)
done
for i in $(seq 1 20); do
  rc=0
  wait "${pids[$((i - 1))]}" || rc=$?
  assert_eq "$rc" "$((i % 5))" "exec $i exit code"
  grep -q "end-$i" "$T/client-$i.out" || fail "exec $i: client output incomplete: $(cat "$T/client-$i.out")"
done
ok "20 concurrent execs: every client got its output and exit code"

assert_eq "$(terminal_sessions | wc -l)" 20 "terminal sessions recorded"
for i in $(seq 1 20); do
  mapfile -t ids < <(session_with_argv "echo end-$i;")
  assert_eq "${#ids[@]}" 1 "sessions for exec $i"
  wait_sealed "${ids[0]}"
  m=$(session_meta "${ids[0]}")
  assert_eq "$(jq -r .exit_code <<<"$m")" "$((i % 5))" "exec $i recorded exit code"
  c=ca
  ((i % 2)) && c=cb
  assert_eq "$(jq -r .container_id <<<"$m")" "$c" "exec $i container"
  out=$(session_output "${ids[0]}")
  for want in "start-$i" "line-$i-3" "end-$i"; do assert_contains "$out" "$want" "exec $i record"; done
  [[ $(grep -c "end-" <<<"$out") == 1 ]] || fail "exec $i record holds another exec's output"
done
ok "20 sessions, one per exec, each complete with its own exit code"
