# Every process a recorded host command starts is in the manifest (short-lived ones too), with
# its exit code; search --command finds the session by a command that never showed on screen.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rec.sh"
set +e
"$TA" rec -q -- sh -c 'for i in $(seq 20); do /bin/true; done; /bin/ls /nonexistent 2>/dev/null; exit 3' </dev/null >/dev/null
rc=$?
set -e
assert_eq "$rc" 3 "rec exit status"
id=$(only_session_id)
manifest="$SPOOL/$id.json"
# Every child the shell ran is a record: seq, 20 /bin/true and the ls. Its argv is read from /proc
# when it execs, so one that is gone first (a loaded machine) keeps its record, not its name.
sh_pid=$(jq '.commands[] | select(.argv[0] == "sh") | .pid' "$manifest" | head -n 1)
assert_eq "$(jq --argjson p "$sh_pid" '[.commands[] | select(.ppid == $p and .exec)] | length' "$manifest")" 22 "records of the shell's children"
named=$(jq '[.commands[] | select(.argv == ["/bin/true"])] | length' "$manifest")
((named >= 15)) || fail "only $named of 20 /bin/true records are named"
assert_eq "$(jq '[.commands[] | select(.argv[0] == "/bin/ls")][0].exit_code' "$manifest")" 2 "ls exit code"
assert_eq "$(jq -r .tracking.via "$manifest")" hub "tracked through the node's hub"
assert_eq "$("$TA" search --command 'ls /nonexistent' --json | jq -r .id)" "$id" "search --command"
assert_eq "$("$TA" search --command 'never-ran' --json | wc -l)" 0 "no false match"
ok "20 short-lived processes and a hidden failing ls recorded"
