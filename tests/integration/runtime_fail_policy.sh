#!/usr/bin/env bash
# When runc exec fails, the client sees runc's error and no recorder or session is left. When
# recording cannot start, the exec proceeds unrecorded and loudly logged (fail-open, the
# default), or is refused with a clear message (fail_closed, globally or per namespace).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rootfs.sh"
. "$(dirname "$0")/../lib/containerd.sh"

RUNC=$(command -v runc) || skip "runc not installed (make deps)"
start_ttyaudit_containerd
ctr_run_bg plain "$T/rootfs" "$RUNC" -- sleep 1000
ctr_run_bg rec "$T/rootfs" "$BIN/ttyaudit-runtime" -- sleep 1000
ctr_run_bg prod "$T/rootfs" "$BIN/ttyaudit-runtime" \
  --annotation io.kubernetes.cri.container-type=container \
  --annotation io.kubernetes.cri.sandbox-namespace=payments -- sleep 1000

# Processes started for this test's config: recorders and note-takers still running.
our_recorders() {
  local p
  for p in /proc/[0-9]*; do
    [[ $(readlink "$p/exe" 2>/dev/null) == */ttyaudit-runtime?(-full) ]] || continue
    tr '\0' '\n' <"$p/environ" 2>/dev/null | grep -qx "TTYAUDIT_CONFIG=$T/config.json" && echo "${p#/proc/}"
  done
  return 0
}

# 1. runc exec fails: same error and exit code as plain runc, nothing left behind.
for id in plain rec; do
  rc=0
  ctr_exec_tty "$id" "bad-$id" /no/such/binary >"$T/$id.err" 2>&1 || rc=$?
  echo "$rc" >"$T/$id.rc"
done
assert_eq "$(cat "$T/rec.rc")" "$(cat "$T/plain.rc")" "exit code of a failing exec"
assert_eq "$(tr -d '\r' <"$T/rec.err")" "$(tr -d '\r' <"$T/plain.err")" "client error of a failing exec"
assert_contains "$(cat "$T/rec.err")" "no such file or directory" "client error"
sleep 0.5
assert_eq "$(sessions | wc -l)" 0 "sessions left by a failed exec"
assert_eq "$(our_recorders | wc -l)" 0 "recorders left by a failed exec"
ok "runc exec failure: the client sees runc's error ($(tr -d '\r' <"$T/rec.err" | head -c 120)...), no session, no recorder"

# 1b. An exec into a stopped container (containerd refuses it before runc, so ask as the shim
# asks runc): the same stdout, stderr, exit code and --log error as plain runc, nothing left.
ctr_run_bg gone "$T/rootfs" "$BIN/ttyaudit-runtime" -- sleep 1000
cctr task kill -s KILL gone
task_stopped() { cctr task ls | awk -v id="$1" '$1 == id && $3 == "STOPPED" {f=1} END {exit !f}'; }
wait_for 10 task_stopped gone
printf '{"terminal":true,"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0},"env":["PATH=/bin"]}' \
  >"$T/process.json"
for who in runc ttyaudit; do
  bin=$RUNC
  [[ $who == ttyaudit ]] && bin="$BIN/ttyaudit-runtime"
  rc=0
  "$bin" --root "$RUNC_ROOT/$CTR_NS" --log "$T/$who-exec.log" --log-format json exec \
    --process "$T/process.json" --console-socket "$T/$who.sock" --detach --pid-file "$T/$who.pid" \
    gone >"$T/$who-exec.out" 2>"$T/$who-exec.err" || rc=$?
  echo "$rc" >"$T/$who-exec.rc"
done
assert_eq "$(cat "$T/ttyaudit-exec.rc")" "$(cat "$T/runc-exec.rc")" "exit code of an exec into a stopped container"
[[ $(cat "$T/runc-exec.rc") != 0 ]] || fail "runc exec into a stopped container succeeded"
assert_eq "$(cat "$T/ttyaudit-exec.out")" "$(cat "$T/runc-exec.out")" "stdout of an exec into a stopped container"
assert_eq "$(cat "$T/ttyaudit-exec.err")" "$(cat "$T/runc-exec.err")" "stderr of an exec into a stopped container"
log_error() { jq -r 'select(.level == "error") | .msg' "$1" | tail -n 1; }
assert_eq "$(log_error "$T/ttyaudit-exec.log")" "$(log_error "$T/runc-exec.log")" "--log error of an exec into a stopped container"
assert_contains "$(log_error "$T/runc-exec.log")" "stopped" "runc's error"
sleep 0.5
assert_eq "$(sessions | wc -l)" 0 "sessions left by an exec into a stopped container"
assert_eq "$(our_recorders | wc -l)" 0 "recorders left by an exec into a stopped container"
[[ -z $(find "$T/run" -name 'console-*' 2>/dev/null) ]] || fail "console sockets left: $(find "$T/run" -name 'console-*')"
ok "exec into a stopped container: runc's own error ($(log_error "$T/runc-exec.log")), no session, no recorder"

# 2. The spool cannot be written (its parent is a file), fail-open: the exec runs unrecorded.
touch "$T/not-a-dir"
use_ttyaudit_config "\"spool_dir\": \"$T/not-a-dir/spool\""
out=$(ctr_exec_tty rec open-1 sh -c 'echo still-works') || fail "fail-open exec failed: $out"
assert_contains "$out" still-works "fail-open exec output"
out=$(ctr_exec rec -- sh -c 'echo plain-still-works') || fail "fail-open non-terminal exec failed"
assert_contains "$out" plain-still-works "fail-open non-terminal exec output"
grep -q "UNRECORDED (fail-open)" "$T/ttyaudit.log" || fail "fail-open was not logged"
ok "fail-open: the exec runs and the log says it is UNRECORDED"

# 3. fail_closed for namespace payments: refused there with a clear message, allowed elsewhere.
use_ttyaudit_config "\"spool_dir\": \"$T/not-a-dir/spool\"" '"fail_closed": ["payments"]'
rc=0
ctr_exec_tty prod closed-1 sh -c 'echo must-not-run' >"$T/closed.out" 2>&1 || rc=$?
((rc != 0)) || fail "fail_closed exec was not refused"
grep -q must-not-run "$T/closed.out" && fail "a refused exec ran"
assert_contains "$(cat "$T/closed.out")" "ttyaudit: exec refused: it cannot be recorded and policy is fail_closed" "client message"
out=$(ctr_exec_tty rec open-2 sh -c 'echo other-namespace-runs') || fail "exec outside payments was refused"
assert_contains "$out" other-namespace-runs "exec outside the fail_closed namespace"
ok "fail_closed [payments]: refused there ($(tr -d '\r' <"$T/closed.out" | head -c 160)...), allowed elsewhere"

# 4. fail_closed everywhere: terminal and non-terminal execs are refused.
use_ttyaudit_config "\"spool_dir\": \"$T/not-a-dir/spool\"" '"fail_closed": true'
rc=0
ctr_exec_tty rec closed-2 sh -c 'echo must-not-run' >"$T/closed2.out" 2>&1 || rc=$?
((rc != 0)) || fail "fail_closed: true did not refuse a terminal exec"
rc=0
ctr_exec rec -- sh -c 'echo must-not-run' >"$T/closed3.out" 2>&1 || rc=$?
((rc != 0)) || fail "fail_closed: true did not refuse a non-terminal exec"
assert_contains "$(cat "$T/closed3.out")" "fail_closed" "non-terminal refusal message"
sleep 0.5
assert_eq "$(our_recorders | wc -l)" 0 "recorders left by refused execs"
ok "fail_closed: true refuses terminal and non-terminal execs, nothing left running"
