# A spool over its cap (spool_max_bytes: the uploader is behind) is a reason the recorder cannot
# start: fail-open runs the command unrecorded and says so; fail_closed refuses it.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rec.sh"
mkdir -m 0700 -p "$SPOOL"
head -c 2000000 /dev/zero >"$SPOOL/backlog.cast"
printf '{"spool_dir":"%s","archive_dir":"%s","spool_max_bytes":1048576}\n' "$SPOOL" "$T/archive" >"$TTYAUDIT_CONFIG"
set +e
"$TA" rec -- sh -c 'echo ran-anyway; exit 4' </dev/null >"$T/out" 2>"$T/err"; rc=$?
set -e
assert_eq "$rc" 4 "fail-open: the command ran and its status passed through"
assert_contains "$(cat "$T/out")" ran-anyway
assert_contains "$(cat "$T/err")" "spool_max_bytes" "the reason names the setting"
assert_contains "$(cat "$T/err")" "UNRECORDED" "fail-open says so loudly"
assert_eq "$(ls "$SPOOL" | grep -vc backlog || true)" 0 "nothing recorded"

printf '{"spool_dir":"%s","archive_dir":"%s","spool_max_bytes":1048576,"fail_closed":true}\n' "$SPOOL" "$T/archive" >"$TTYAUDIT_CONFIG"
set +e
"$TA" rec -- sh -c 'echo must-not-run' </dev/null >"$T/out2" 2>"$T/err2"; rc=$?
set -e
assert_eq "$rc" 1 "fail_closed refuses"
if grep -q must-not-run "$T/out2"; then fail "the command ran under fail_closed"; fi
assert_contains "$(cat "$T/err2")" "fail_closed"
ok "spool cap: fail-open runs unrecorded, fail_closed refuses"
