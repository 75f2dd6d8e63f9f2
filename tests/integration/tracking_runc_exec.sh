#!/usr/bin/env bash
# Process tracking of `runc exec` in a real container, as the recorder does it: the tracker starts
# on the runtime's own process and is narrowed to the exec's pid (runc's --pid-file) at the end.
# Checks: a background job, rm and a subshell's exit code 7 are listed; 100 /bin/true give 100
# records; a setuid-root program run as uid 1000 is an escalation.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rootfs.sh"

RUNC=$(command -v runc) || fail "runc is not installed (make deps)"
TRACK="$BIN/ttyaudit-tracker"
require_tracking
make_busybox_rootfs "$T/bundle/rootfs"
# A setuid-root busybox named after an applet (busybox picks the applet by its name).
mkdir -p "$T/bundle/rootfs/opt/suid"
cp "$T/bundle/rootfs/bin/busybox" "$T/bundle/rootfs/opt/suid/id"
chmod 4755 "$T/bundle/rootfs/opt/suid/id"
(cd "$T/bundle" && "$RUNC" spec)
jq '.process.terminal = false | .process.args = ["sleep", "1000"] | .process.noNewPrivileges = false
  | .root.readonly = false' "$T/bundle/config.json" >"$T/c.json" && mv "$T/c.json" "$T/bundle/config.json"
id="ttyaudit-track-$$"
root="$T/runc-root"
on_exit "'$RUNC' --root '$root' delete --force '$id'"
"$RUNC" --root "$root" run -d --bundle "$T/bundle" "$id" </dev/null >"$T/ctr.out" 2>&1 ||
  { cat "$T/ctr.out" >&2; fail "runc run"; }

# track NAME STATUS [runc exec options] -- CMD...: the records of one exec in $T/NAME.json and
# what it printed in $T/NAME.out; ttyaudit-tracker track exits with the exec's status, STATUS.
track() {
  local name=$1 want=$2 rc=0
  shift 2
  local opts=()
  while [[ $1 != -- ]]; do opts+=("$1"); shift; done
  shift
  "$TRACK" track --pid-file "$T/$name.pid" -- \
    "$RUNC" --root "$root" exec --pid-file "$T/$name.pid" "${opts[@]}" "$id" "$@" \
    >"$T/$name.all" 2>"$T/$name.err" || rc=$?
  # The exec's output, then the records on one line.
  head -n -1 "$T/$name.all" >"$T/$name.out"
  tail -n 1 "$T/$name.all" >"$T/$name.json"
  jq -e . "$T/$name.json" >/dev/null || { cat "$T/$name.err" >&2; fail "$name: no JSON"; }
  assert_eq "$rc" "$want" "$name: exit status (stderr: $(cat "$T/$name.err"))"
}

# busybox ash runs applets such as rm in a fork without exec (NOEXEC) and runs the last command
# of -c without forking: `/bin/rm` and a subshell that is not last make both visible as processes.
# The shell's exit hangs up the session: the short sleep before it lets the background job
# reach its exec first even on a loaded machine (else it dies as a fork of the shell).
cmd='sleep 1 & echo x > /tmp/f; /bin/rm /tmp/f; (exit 7); r=$?; sleep 0.5; exit $r'
track story 7 -- sh -c "$cmd"
j="$T/story.json"
exec_pid=$(cat "$T/story.pid")
assert_eq "$(jq -r '.commands[0].pid' "$j")" "$exec_pid" "the session's root is the exec's process"
assert_eq "$(jq -r '.commands[0].argv[2]' "$j")" "$cmd" "root argv"
assert_eq "$(jq -r '.commands[0].exit_code' "$j")" 7 "the exec's own exit code"
jq -e '.commands[] | select(.argv == ["sleep","1"] and .ppid == '"$exec_pid"' and .end - .start >= 0.9)' "$j" >/dev/null ||
  fail "background sleep 1 missing: $(jq -c .commands "$j")"
# rm lives about a millisecond: its name is read from /proc at its exec and may be gone first;
# its record (the shell's child that exec'd and exited 0) may not.
jq -e --argjson p "$exec_pid" '.commands[] | select((.argv == ["/bin/rm","/tmp/f"] or .argv == [])
  and .ppid == $p and .exec and .exit_code == 0 and .top_level)' "$j" >/dev/null ||
  fail "rm missing: $(jq -c .commands "$j")"
jq -e '.commands[] | select(.exec == false and .exit_code == 7 and .ppid == '"$exec_pid"')' "$j" >/dev/null ||
  fail "subshell with exit code 7 missing: $(jq -c .commands "$j")"
assert_eq "$(jq '[.commands[] | select(.argv[0] == "runc")] | length' "$j")" 0 "runc's own processes left out"
assert_eq "$(jq '.commands | length' "$j")" 5 "records (sh, sleep, rm, subshell, the last sleep)"
ok "sh -c 'sleep 1 & ...; rm; (exit 7)': sleep, rm, subshell 7, exit code 7"

track trues 0 -- sh -c 'i=0; while [ $i -lt 100 ]; do /bin/true; i=$((i+1)); done'
n=$(jq '[.commands[] | select(.exec and .pid != '"$(cat "$T/trues.pid")"')] | length' "$T/trues.json")
assert_eq "$n" 100 "processes recorded for 100 /bin/true"
assert_eq "$(jq -r '.tracking.via' "$T/trues.json")" hub "tracked through the node's hub"
named=$(jq '[.commands[] | select(.argv[0] == "/bin/true" or .argv[0] == "true")] | length' "$T/trues.json")
# argv is read from /proc at the exec; on a loaded machine a /bin/true can be gone first: it
# keeps its record (counted above), only its name is best-effort.
((named >= 75)) || fail "only $named of 100 records named true"
ok "100 /bin/true in a container: 100 records"

track suid 0 --user 1000:1000 -- /opt/suid/id -u
# busybox drops a setuid root at once for applets that do not need it, as id: the escalation is
# the exec's (euid 0 then, from the kernel), and what id prints is the real uid again.
assert_eq "$(cat "$T/suid.out")" 1000 "what the setuid id printed"
jq -e '.escalated and (.escalations[0].before.euid == 1000) and (.escalations[0].after.euid == 0) and .escalations[0].to_root' \
  "$T/suid.json" >/dev/null || fail "no escalation: $(jq -c .escalations "$T/suid.json")"
jq -e '.escalations[0].exec_argv[0] == "/opt/suid/id"' "$T/suid.json" >/dev/null ||
  fail "escalation does not name the setuid program: $(jq -c .escalations "$T/suid.json")"
ok "setuid-root program run by uid 1000: escalation euid 1000 -> 0 by /opt/suid/id"

track plain 0 --user 1000:1000 -- /bin/id -u
assert_eq "$(cat "$T/plain.out")" 1000 "id -u of an exec --user 1000"
assert_eq "$(jq -c '[.escalated, (.escalations | length)]' "$T/plain.json")" '[false,0]' \
  "runc switching to --user 1000 is not an escalation"
ok "exec --user 1000 of a plain program: no escalation"
