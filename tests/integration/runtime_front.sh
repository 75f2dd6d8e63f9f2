#!/usr/bin/env bash
# ttyaudit-runtime is a front that loads only libc: a pass-through call becomes the real runc
# in the same process (same pid, /proc/PID/exe is runc) with runc's output and exit code, while
# create (the hook) and exec (the recorder) go to ttyaudit-runtime-full beside it. Which runc
# comes from the config's runc key; a loop back into either binary, or a config that cannot be
# read, is a clear error on stderr and in runc's --log, never a guess and never on stdout.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rootfs.sh"
. "$(dirname "$0")/../lib/containerd.sh"

RUNC=$(command -v runc) || skip "runc not installed (make deps)"
RT="$BIN/ttyaudit-runtime"
FULL="$BIN/ttyaudit-runtime-full"
[[ -x $RT && -x $FULL ]] || fail "no $RT or $FULL: build first"

# Only libc (and the loader; a sanitizer build adds its runtimes, libasan and libubsan).
needed=$(readelf -d "$RT" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
others=""
for lib in $needed; do
  [[ $lib =~ ^(libc\.so\.6|ld-linux.*|libasan\.so.*|libubsan\.so.*)$ ]] || others+="$lib "
done
[[ $needed == *libc.so.6* && -z $others ]] || fail "ttyaudit-runtime needs more than libc: $others"
ok "ttyaudit-runtime loads only libc ($needed)"

start_ttyaudit_containerd
ctr_run_bg c1 "$T/rootfs" "$RT" -- sleep 1000
bundle_cfg=$(find "$T/containerd/state" -path '*/c1/config.json' | head -n 1)
jq -e '.hooks.createRuntime[] | select(.path | endswith("/ttyaudit-hook"))' "$bundle_cfg" >/dev/null ||
  fail "create through the front did not add ttyaudit-hook: $(jq -c .hooks "$bundle_cfg")"
ok "create went to the full runtime: ttyaudit-hook is in the bundle's hooks"
R="$RUNC_ROOT/$CTR_NS"

# A pass-through is runc itself in the front's process: `events` runs until it is stopped.
"$RT" --root "$R" events --interval 1s c1 >"$T/events.out" 2>"$T/events.err" &
ev=$!
track_pid "$ev"
runc_exe=$(readlink -f "$RUNC")
wait_for 5 bash -c "[[ \$(readlink /proc/$ev/exe) == '$runc_exe' ]]"
wait_for 5 test -s "$T/events.out"
kill "$ev"
wait "$ev" 2>/dev/null || true
# -s: over all the lines at once (jq -e alone judges only the last line's output).
jq -s -e '[.[] | select(.type == "stats")] | length > 0 and all(.id == "c1")' \
  "$T/events.out" >/dev/null ||
  fail "events through the front: $(head -c 300 "$T/events.out")"
ok "events: pid $ev became $runc_exe itself (no process of ours in between)"

same_as_runc --root "$R" state c1
same_as_runc --root "$R" ps --format json c1
same_as_runc --root "$R" kill c1 SIGCONT
same_as_runc --root "$R" delete c1
same_as_runc --root "$R" events --stats no-such-container
ok "state, ps, kill, delete, events: runc's output and exit codes"

# A terminal exec still goes through the recorder.
out=$(ctr_exec_tty c1 tty-1 sh -c 'echo recorded-through-front; exit 4') && rc=0 || rc=$?
assert_eq "$rc" 4 "terminal exec exit code"
assert_contains "$out" recorded-through-front "terminal exec output"
id=$(session_with_argv recorded-through-front)
[[ -n $id ]] || fail "terminal exec through the front left no session (spool: $(ls "$SPOOL"))"
wait_for 10 bash -c "[[ -f '$SPOOL/$id.json' ]]"
assert_eq "$(session_meta "$id" | jq -r .terminal)" true "session: terminal"
assert_contains "$(session_output "$id")" recorded-through-front "recorded output"
ok "terminal exec: recorded by ttyaudit-runtime-full (session $id)"

# The config's runc is the one run, even when another key is bad: pass-through and exec alike.
cat >"$T/myrunc" <<SH
#!/bin/sh
echo "\$*" >>"$T/myrunc.calls"
exec "$RUNC" "\$@"
SH
chmod +x "$T/myrunc"
use_ttyaudit_config "\"runc\": \"$T/myrunc\"" '"spool_dir": 5'
same_as_runc --root "$R" state c1
grep -q "state c1" "$T/myrunc.calls" || fail "pass-through did not run the configured runc"
out=$(ctr_exec c1 -- echo exec-with-bad-config) || fail "exec with a bad spool_dir failed"
assert_eq "$out" exec-with-bad-config "exec output with a bad spool_dir"
grep -q " exec " "$T/myrunc.calls" || fail "exec did not run the configured runc: $(cat "$T/myrunc.calls")"
grep -q "spool_dir" "$T/ttyaudit.log" || fail "the bad key was not logged by the full runtime"
ok "a bad spool_dir: the configured runc still runs (state and exec), the error is logged"
# ... unless fail_closed is set: nothing can be recorded, so the exec is refused (pass-through
# calls still run).
use_ttyaudit_config "\"runc\": \"$T/myrunc\"" '"spool_dir": 5' '"fail_closed": true'
same_as_runc --root "$R" state c1
out=$(ctr_exec c1 -- echo ran-with-bad-config 2>&1) && fail "fail_closed with a bad spool_dir: the exec ran: $out"
assert_contains "$out" "exec refused: it cannot be recorded and policy is fail_closed" \
  "fail_closed with a bad spool_dir: the client's message"
assert_contains "$out" "spool_dir" "fail_closed with a bad spool_dir: the reason"
ok "a bad spool_dir under fail_closed: the exec is refused, naming the key"
use_ttyaudit_config
: >"$T/ttyaudit.log"

# expect_error WHAT TEXT ARGS...: the front exits 1, prints nothing on stdout, says TEXT on
# stderr and in runc's json --log.
expect_error() {
  local what=$1 text=$2 rc=0
  shift 2
  rm -f "$T/err.log"
  "$@" --log "$T/err.log" --log-format json --root "$R" state c1 >"$T/e.out" 2>"$T/e.err" || rc=$?
  assert_eq "$rc" 1 "exit code ($what)"
  [[ ! -s "$T/e.out" ]] || fail "$what: printed on stdout: $(cat "$T/e.out")"
  assert_contains "$(cat "$T/e.err")" "$text" "$what: stderr"
  jq -e --arg t "$text" 'select(.level == "error") | .msg | contains($t)' "$T/err.log" >/dev/null ||
    fail "$what: no error line in runc's --log: $(cat "$T/err.log" 2>/dev/null)"
  ok "$what: $(head -c 150 "$T/e.err")"
}
use_ttyaudit_config "\"runc\": \"$RT\""
expect_error "config runc is the front" "is ttyaudit-runtime itself" "$RT"
use_ttyaudit_config "\"runc\": \"$FULL\""
expect_error "config runc is the full runtime" "is ttyaudit-runtime itself" "$RT"
expect_error "the full runtime refuses the loop too" "is ttyaudit-runtime itself" "$FULL"

# On PATH, a runc that is the front or the full runtime is skipped.
use_ttyaudit_config
mkdir -p "$T/loop1" "$T/loop2"
ln -s "$RT" "$T/loop1/runc"
ln "$FULL" "$T/loop2/runc" 2>/dev/null || cp "$FULL" "$T/loop2/runc"
"$RUNC" --root "$R" state c1 >"$T/want.out"
PATH="$T/loop1:$T/loop2:$PATH" "$RT" --root "$R" state c1 >"$T/got.out" || fail "state with loops on PATH"
cmp -s "$T/want.out" "$T/got.out" || fail "state with loops on PATH: $(cat "$T/got.out")"
ok "a runc on PATH that is the front or the full runtime is skipped for the real one"

# A config that cannot be read names no runc: an error, not the default one. The front then
# logs to the default log file: give it a private /var/log so the machine's stays untouched.
in_private_var_log() { unshare -m bash -c 'mount -t tmpfs tmpfs /var/log && exec "$@"' _ "$@"; }
printf '{"runc": "%s", "spool_dir": ' "$RUNC" >"$T/config.json"
expect_error "a truncated config" "not valid JSON" in_private_var_log "$RT"
TTYAUDIT_CONFIG="$T/no-such-config.json" expect_error "a missing TTYAUDIT_CONFIG" \
  "no-such-config.json" in_private_var_log "$RT"
use_ttyaudit_config

# Without ttyaudit-runtime-full beside it, the front cannot record. Fail-open (the default):
# create and exec go to runc unrecorded, and the log says so. fail_closed (here for one
# namespace: the front cannot tell an exec's namespace, so it closes all) refuses the exec, and
# the client sees why.
mkdir -p "$T/alone"
cp "$RT" "$T/alone/ttyaudit-runtime"
: >"$T/ttyaudit.log"
ctr_run_bg c2 "$T/rootfs" "$T/alone/ttyaudit-runtime" -- sleep 1000
grep -q "container c2 starts without ttyaudit-hook (fail-open): cannot run ttyaudit-runtime-full" \
  "$T/ttyaudit.log" || fail "create without the full runtime was not logged: $(cat "$T/ttyaudit.log")"
out=$(ctr_exec_tty c2 alone-1 sh -c 'echo unrecorded-exec; exit 5') && rc=0 || rc=$?
assert_eq "$rc" 5 "fail-open exec without the full runtime: exit code"
assert_contains "$out" unrecorded-exec "fail-open exec without the full runtime: output"
grep -q "exec in container c2 proceeds UNRECORDED (fail-open): cannot run ttyaudit-runtime-full" \
  "$T/ttyaudit.log" || fail "the unrecorded exec was not logged: $(cat "$T/ttyaudit.log")"
[[ -z $(session_with_argv unrecorded-exec) ]] || fail "a session was recorded without the full runtime"
ok "no ttyaudit-runtime-full, fail-open: create and exec ran unrecorded (exit 5), and the log says so"

use_ttyaudit_config '"fail_closed": ["prod"]'
out=$(ctr_exec_tty c2 alone-2 sh -c 'echo ran > /tmp/ran-anyway' 2>&1) && rc=0 || rc=$?
[[ $rc != 0 ]] || fail "fail_closed: the exec ran without the full runtime"
assert_contains "$out" "exec refused: it cannot be recorded and policy is fail_closed: cannot run ttyaudit-runtime-full" \
  "fail_closed: the client's message"
use_ttyaudit_config
ctr_exec c2 -- test ! -e /tmp/ran-anyway || fail "fail_closed: the refused command ran"
ok "no ttyaudit-runtime-full, fail_closed: the exec is refused, the client reads why"
