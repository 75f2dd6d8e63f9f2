#!/usr/bin/env bash
# A terminal exec through ttyaudit-runtime is recorded whole under the recorder's sandbox: while
# it runs the recorder shows NoNewPrivs 1, Seccomp 2 and only the capabilities it keeps, in a
# cgroup of its own with the config's limits. A forbidden syscall after the handover (an exec)
# kills it with SIGSYS: the client's exec ends, and the uploader ships the session sealed as
# interrupted.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rootfs.sh"
. "$(dirname "$0")/../lib/containerd.sh"
. "$(dirname "$0")/../lib/sandbox.sh"

RUNC=$(command -v runc) || skip "runc not installed (make deps)"
command -v capsh >/dev/null || fail "capsh not installed (libcap2-bin, make deps)"
# Read by the recorder once its filter is loaded (a test hook): an exec, once the file exists.
export TTYAUDIT_SANDBOX_TEST_EXEC="$T/forbidden"
mem=$((80 << 20))
start_ttyaudit_containerd "\"sandbox\": {\"recorder_memory_max\": $mem, \"recorder_pids_max\": 40}"
on_exit "remove_session_cgroups '$SPOOL'"
ctr_run_bg c1 "$T/rootfs" "$BIN/ttyaudit-runtime" -- sleep 1000
exec_in_tmux() {
  tmx new-session -d -s "$1" -x 100 -y 30 \
    "ctr --address '$CTR_SOCK' -n '$CTR_NS' task exec --fifo-dir '$T/containerd/fifo' --exec-id $1 -t c1 sh; echo CLIENT-RC=\$?; sleep 600"
}

exec_in_tmux x1
tmx_wait_text x1 "/ #" 15
mapfile -t ids < <(terminal_sessions)
assert_eq "${#ids[@]}" 1 "terminal sessions"
id=${ids[0]}
pid=$(head -n 1 "$SPOOL/$id.cast" | jq -r .ttyaudit.recorder_pid)
[[ $(cat "/proc/$pid/comm") == ttyaudit* ]] || fail "recorder pid $pid is not ttyaudit"
assert_sandboxed "$pid" "the runtime's recorder" cap_linux_immutable,cap_net_admin,cap_sys_nice,cap_sys_ptrace
assert_threads_sandboxed "$pid" "the runtime's recorder"
cg=$(cgroup_path "$pid")
[[ $cg == */ttyaudit/$id ]] || fail "recorder's cgroup [$cg] is not ttyaudit/$id"
assert_eq "$(cgroup_limits "$pid")" "$mem 40" "recorder's cgroup limits (memory, pids)"
ok "recorder in cgroup $cg: memory $mem, pids 40"

tmx send-keys -t x1 'echo typed-$((6*7)); seq 1 5000 | tail -n 1' Enter
tmx_wait_text x1 "typed-42"
tmx resize-window -t x1 -x 120 -y 40
sleep 0.3
tmx send-keys -t x1 'stty size' Enter
tmx_wait_text x1 "40 120"
tmx send-keys -t x1 'exit 3' Enter
tmx_wait_text x1 "CLIENT-RC=3"
wait_sealed "$id"
meta=$(session_meta "$id")
assert_eq "$(jq -r .state <<<"$meta")" exited "state"
assert_eq "$(jq -r .exit_code <<<"$meta")" 3 "exit code"
out=$(session_output "$id")
assert_contains "$out" "typed-42" "recorded output"
assert_contains "$out" "5000" "recorded output"
assert_contains "$out" "40 120" "the resize reached the exec"
ok "a whole exec recorded under seccomp: output, resize, exit 3, sealed"

cp /bin/true "$T/forbidden"
exec_in_tmux x2
tmx_wait_text x2 "CLIENT-RC=" 20
mapfile -t ids < <(terminal_sessions)
assert_eq "${#ids[@]}" 2 "terminal sessions"
id2=${ids[1]}
pid2=$(head -n 1 "$SPOOL/$id2.cast" | jq -r .ttyaudit.recorder_pid)
wait_for 5 bash -c "! kill -0 $pid2"
[[ ! -f "$SPOOL/$id2.json" ]] || fail "a killed recorder sealed its session"
grep -q "audit.*pid=$pid2 .*sig=31" <(dmesg 2>/dev/null) ||
  echo "note: no seccomp audit line for pid $pid2 in dmesg (audit off or dmesg not readable)"
env -u TTYAUDIT_SANDBOX_TEST_EXEC "$BIN/ttyaudit-uploader" --once --interrupted-after 0 >"$T/up.log" 2>&1 ||
  { cat "$T/up.log" >&2; fail "uploader"; }
man=$(find "$T/archive/sessions" -name "$id2.json")
[[ -n $man ]] || { cat "$T/up.log" >&2; fail "session $id2 not archived"; }
assert_eq "$(jq -r .session.state "$man")" interrupted "archived state of the killed recorder's session"
ok "an exec from the recorder after setup killed it (SIGSYS); the uploader sealed the session as interrupted"
