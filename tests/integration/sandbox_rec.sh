#!/usr/bin/env bash
# `ttyaudit rec` records a whole session under its sandbox: while it runs, the recorder shows
# NoNewPrivs 1, Seccomp 2 and only the capabilities it keeps, and sits in a cgroup of its own
# whose memory and pids limits (the config's) show in cgroupfs; the session is sealed with its
# exit status. A forbidden syscall after setup (an exec) kills the recorder with SIGSYS, and the
# session then reads as interrupted. TTYAUDIT_SANDBOX=off, and only that, runs it without.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rec.sh"
. "$(dirname "$0")/../lib/sandbox.sh"

command -v capsh >/dev/null || fail "capsh not installed (libcap2-bin, make deps)"
needed=$(readelf -d "$BIN/ttyaudit-rec" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
for lib in $needed; do
  [[ $lib =~ ^(libc\.so\.6|ld-linux.*|libasan\.so.*|libubsan\.so.*)$ ]] || fail "ttyaudit-rec loads $lib"
done
ok "ttyaudit-rec still loads only libc ($needed), libseccomp and libcap linked in"

on_exit "remove_session_cgroups '$SPOOL'"
mem=$((96 << 20))
printf '{"spool_dir":"%s","archive_dir":"%s","fsync_interval_s":0.2,"sandbox":{"recorder_memory_max":%d,"recorder_pids_max":24}}\n' \
  "$SPOOL" "$T/archive" "$mem" >"$TTYAUDIT_CONFIG"

# recorder_pid ID: the recorder's pid, from the session's header.
recorder_pid() { head -n 1 "$SPOOL/$1.cast" | jq -r .ttyaudit.recorder_pid; }
# wait_session N: waits for the Nth session file (oldest first) and prints its id.
wait_session() {
  wait_for 10 bash -c "ls '$SPOOL'/*.cast 2>/dev/null | wc -l | grep -qx $1"
  ls "$SPOOL" | sed -n 's/\.cast$//p' | sort | sed -n "$1p"
}

# 1. A whole session under the sandbox.
rec_in_tmux 80 24 sh
tmx_wait_text rec '#' 10
id=$(wait_session 1)
pid=$(recorder_pid "$id")
[[ $(cat "/proc/$pid/comm") == ttyaudit* ]] || fail "recorder pid $pid is not ttyaudit"
assert_sandboxed "$pid" "ttyaudit rec's recorder" cap_kill,cap_linux_immutable,cap_net_admin,cap_sys_nice,cap_sys_ptrace
assert_threads_sandboxed "$pid" "ttyaudit rec's recorder"
cg=$(cgroup_path "$pid")
[[ $cg == */ttyaudit/$id ]] || fail "recorder's cgroup [$cg] is not ttyaudit/$id"
assert_eq "$(cgroup_limits "$pid")" "$mem 24" "recorder's cgroup limits (memory, pids)"
ok "recorder in cgroup $cg: memory $mem, pids 24"
shell=$(pgrep -P "$pid" | head -n 1)
[[ $(cgroup_path "$shell") != "$cg" ]] || fail "the recorded shell is in the recorder's cgroup"
assert_eq "$(status_field "$shell" NoNewPrivs)" 0 "the recorded shell's NoNewPrivs"
assert_eq "$(status_field "$shell" Seccomp)" 0 "the recorded shell's Seccomp"
ok "the recorded shell keeps the user's privileges and cgroup"

tmx send-keys -t rec 'echo out-$((6*7)); seq 1 3000 | tail -n 1' Enter
tmx_wait_text rec 'out-42'
tmx resize-window -t rec -x 100 -y 30
sleep 0.3
tmx send-keys -t rec 'stty size' Enter
tmx_wait_text rec '30 100'
tmx send-keys -t rec 'sleep 30' Enter
sleep 0.5
tmx send-keys -t rec C-c
tmx send-keys -t rec 'exit 3' Enter
assert_eq "$(wait_rc)" 3 "rec's exit status"
assert_eq "$(session_field "$id" state)" exited "state"
assert_eq "$(session_field "$id" exit_code)" 3 "recorded exit code"
out=$("$TA" cat "$id")
assert_contains "$out" "out-42" "recorded output"
assert_contains "$out" "3000" "recorded output"
assert_contains "$out" "30 100" "the resize reached the session"
ok "a whole session recorded under seccomp: output, resize, Ctrl-C, exit 3, sealed"
tmx kill-session -t rec

# 2. An exec from the recorder after setup is killed.
cp /bin/true "$T/forbidden"
rm -f "$T/rc"
tmx new-session -d -s rec -x 80 -y 24 \
  "env TTYAUDIT_CONFIG=$TTYAUDIT_CONFIG TTYAUDIT_SANDBOX_TEST_EXEC=$T/forbidden $TA rec -q -- sh -c 'sleep 30'; echo \$? > $T/rc; sleep 600"
assert_eq "$(wait_rc)" $((128 + 31)) "rec's exit status when its recorder makes a forbidden syscall (128+SIGSYS)"
id2=$(wait_session 2)
assert_eq "$(session_field "$id2" state)" interrupted "state of the session whose recorder was killed"
ok "an exec after setup killed the recorder with SIGSYS; the session reads as interrupted"
tmx kill-session -t rec

# 3. Off only when asked.
rm -f "$T/rc"
tmx new-session -d -s rec -x 80 -y 24 \
  "env TTYAUDIT_CONFIG=$TTYAUDIT_CONFIG TTYAUDIT_SANDBOX=off $TA rec -q -- sh; echo \$? > $T/rc; sleep 600"
id3=$(wait_session 3)
pid3=$(recorder_pid "$id3")
wait_for 5 test -d "/proc/$pid3"
assert_eq "$(status_field "$pid3" Seccomp)" 0 "Seccomp with TTYAUDIT_SANDBOX=off"
assert_eq "$(status_field "$pid3" NoNewPrivs)" 0 "NoNewPrivs with TTYAUDIT_SANDBOX=off"
tmx send-keys -t rec 'exit 0' Enter
assert_eq "$(wait_rc)" 0 "rec's exit status with the sandbox off"
ok "TTYAUDIT_SANDBOX=off: no filter, no no_new_privs"
