#!/usr/bin/env bash
# What ran in `ctr task exec -t` sessions through ttyaudit-runtime, from the session manifests:
# a background job, rm and a subshell's exit code 7 with the exec's own exit code; 100 /bin/true
# as 100 records; a setuid-root program run by uid 1000 flagged as an escalation, with its name;
# a plain `--user 1000` exec not flagged.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rootfs.sh"
. "$(dirname "$0")/../lib/containerd.sh"

require_tracking
start_ttyaudit_containerd
# A setuid-root busybox named after an applet (busybox picks the applet by its name): sleep, so
# that it is still there when its exec is read and the escalation names it.
mkdir -p "$T/rootfs/opt/suid"
cp "$T/rootfs/bin/busybox" "$T/rootfs/opt/suid/sleep"
chmod 4755 "$T/rootfs/opt/suid/sleep"
ctr_run_bg trk "$T/rootfs" "$BIN/ttyaudit-runtime" --allow-new-privs -- sleep 1000

# manifest_of TEXT: the sealed manifest of the one session whose argv contains TEXT.
manifest_of() {
  local ids
  mapfile -t ids < <(session_with_argv "$1")
  assert_eq "${#ids[@]}" 1 "sessions with argv containing [$1]"
  wait_sealed "${ids[0]}"
  jq -e .commands "$SPOOL/${ids[0]}.json" >/dev/null ||
    fail "manifest has no commands: $(head -c 600 "$SPOOL/${ids[0]}.json")"
  echo "$SPOOL/${ids[0]}.json"
}

# busybox ash runs rm as a fork without exec and does not fork for the last command: /bin/rm
# and a subshell that is not last make both visible.
# The shell's exit hangs up the session: the short sleep before it lets the background job
# reach its exec first even on a loaded machine (else it dies as a fork of the shell).
cmd='sleep 1 & echo x > /tmp/f; /bin/rm /tmp/f; (exit 7); r=$?; sleep 0.5; exit $r'
rc=0
ctr_exec_tty trk story sh -c "$cmd" >"$T/story.out" 2>&1 || rc=$?
assert_eq "$rc" 7 "client exit code"
m=$(manifest_of "/bin/rm /tmp/f")
root=$(jq -c '.commands[0]' "$m")
assert_eq "$(jq -r '.argv[2]' <<<"$root")" "$cmd" "the session's first process"
assert_eq "$(jq -r '.exit_code' <<<"$root")" 7 "its exit code"
pid=$(jq -r .pid <<<"$root")
# The shell was the session leader: its exit hangs up the terminal and the background sleep
# gets SIGHUP, as it would without ttyaudit. The session ends when the terminal is closed, by
# the sleep too, so its end is on record: a process that never printed anything.
jq -e '.commands[] | select(.argv == ["sleep","1"] and .ppid == '"$pid"' and .exec and .end != null
  and .signal == 1)' "$m" >/dev/null ||
  fail "background sleep, hung up (signal 1), missing: $(jq -c .commands "$m")"
# rm lives about a millisecond: as for the /bin/true below, its name is best-effort (read from
# /proc at its exec), its record is not: the shell's child that exec'd, exited 0, in /.
jq -e --argjson p "$pid" '.commands[] | select((.argv == ["/bin/rm","/tmp/f"] or .argv == [])
  and .ppid == $p and .exec and .exit_code == 0 and .cwd == "/")' "$m" >/dev/null ||
  fail "rm missing: $(jq -c .commands "$m")"
jq -e '.commands[] | select(.exec == false and .exit_code == 7)' "$m" >/dev/null ||
  fail "subshell exit 7 missing: $(jq -c .commands "$m")"
assert_eq "$(jq '[.commands[] | select(.argv[0] == "runc" or .argv[0] == "runc:[2:INIT]")] | length' "$m")" 0 "runtime helpers left out"
assert_eq "$(jq '.escalated' "$m")" false "escalated"
assert_eq "$(jq '.commands | length' "$m")" 5 "records (sh, sleep, rm, subshell, the last sleep)"
ok "sleep, rm and the subshell's exit 7 are in the manifest; the exec exited 7"

ctr_exec_tty trk trues sh -c 'i=0; while [ $i -lt 100 ]; do /bin/true; i=$((i+1)); done; echo loop-done' >/dev/null 2>&1
m=$(manifest_of "loop-done")
assert_eq "$(jq '[.commands[] | select(.top_level and .exec)] | length' "$m")" 100 "records of /bin/true"
named=$(jq '[.commands[] | select(.argv[0] == "/bin/true" or .argv[0] == "true")] | length' "$m")
assert_eq "$(jq '.tracking.lost_events' "$m")" 0 "lost events"
assert_eq "$(jq -r '.tracking.via' "$m")" hub "tracked through the node's hub"
ok "100 /bin/true: 100 records ($named named)"
# argv is read from /proc at the exec: on a loaded machine a /bin/true can be gone first. It
# keeps its record (counted above); only its name is best-effort.
((named >= 75)) || fail "only $named of 100 /bin/true have their argv"

# ctr_exec_user USER EXEC_ID CMD...: ctr_exec_tty with --user.
ctr_exec_user() {
  local user=$1 eid=$2 cmd q
  shift 2
  cmd="ctr --address '$CTR_SOCK' -n '$CTR_NS' task exec --fifo-dir '$T/containerd/fifo' --user $user --exec-id $eid -t trk"
  for q in "$@"; do cmd+=" $(printf '%q' "$q")"; done
  script -qec "$cmd" /dev/null 0<>"$T/no-input.fifo"
}
rc=0
ctr_exec_user 1000:1000 suid /opt/suid/sleep 0.5 >"$T/suid.out" 2>&1 || rc=$?
assert_eq "$rc" 0 "exit status of the setuid sleep (output: $(cat -v "$T/suid.out"))"
m=$(manifest_of "/opt/suid/sleep")
jq -e '.escalated and (.escalations[0].before.euid == 1000) and (.escalations[0].after.euid == 0)
       and .escalations[0].to_root and .escalations[0].exec_argv == ["/opt/suid/sleep", "0.5"]' \
  "$m" >/dev/null || fail "no escalation naming /opt/suid/sleep: $(jq -c .escalations "$m")"
rc=0
ctr_exec_user 1000:1000 plain /bin/id -u >"$T/plain.out" 2>&1 || rc=$?
assert_eq "$rc" 0 "exit status of id -u"
# ctr may add its own complaint after the exec ended ("resize pty ... stopped container").
assert_eq "$(tr -d '\r' <"$T/plain.out" | head -n 1)" 1000 "id -u of an exec --user 1000"
m=$(manifest_of "/bin/id -u")
assert_eq "$(jq -c '[.escalated, (.escalations | length)]' "$m")" '[false,0]' "a plain --user 1000 exec"
# search --escalated finds exactly the setuid session among all of this test's sessions.
escalated=$("$BIN/ttyaudit" search --escalated --json)
assert_eq "$(jq -r '.argv | join(" ")' <<<"$escalated")" "/opt/suid/sleep 0.5" "search --escalated"
assert_eq "$(jq -r .escalated <<<"$escalated")" true "escalated in search --json"
ok "setuid-root program by uid 1000 flagged as escalation; a plain --user exec is not"
