# rec exits with the command's status, 128+N for a signal, 127 for a missing command; the
# record says how the session ended. Works with stdin not a terminal.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rec.sh"
set +e
"$TA" rec -q -- sh -c 'exit 3' </dev/null >/dev/null; rc=$?
assert_eq "$rc" 3 "plain exit"
"$TA" rec -q -- sh -c 'kill -TERM $$' </dev/null >/dev/null; rc=$?
assert_eq "$rc" 143 "killed by SIGTERM"
"$TA" rec -q -- /no/such/command </dev/null >"$T/out" 2>&1; rc=$?
assert_eq "$rc" 127 "missing command"
# The shell's output is from-5-pipe; the terminal's echo of the input shows only $((2+3)).
echo 'echo from-$((2+3))-pipe; exit 5' | "$TA" rec -q -- /bin/sh >"$T/piped"; rc=$?
assert_eq "$rc" 5 "stdin from a pipe"
set -e
tr -d '\r' <"$T/piped" | grep -q 'from-5-pipe' ||
  fail "the piped command's output is not on rec's output: $(cat -v "$T/piped")"
states=$("$TA" search --json | jq -r '"\(.state):\(.exit_code)"' | sort | tr '\n' ' ')
assert_eq "$states" "exited:127 exited:3 exited:5 signaled:null " "end states"
assert_eq "$("$TA" search --json | jq -r 'select(.state=="signaled") | .signal')" 15
ok "exit statuses passed through and recorded"
