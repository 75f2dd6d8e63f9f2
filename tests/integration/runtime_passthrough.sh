#!/usr/bin/env bash
# ttyaudit-runtime as containerd's runc: every subcommand but a terminal exec passes through
# with runc's own stdout, stderr and exit code (state, ps, list, events, kill, delete, a
# non-terminal exec), and containerd runs, execs, kills and deletes through it.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rootfs.sh"
. "$(dirname "$0")/../lib/containerd.sh"

RUNC=$(command -v runc) || skip "runc not installed (make deps)"
RT="$BIN/ttyaudit-runtime"
[[ -x $RT ]] || fail "no $RT: build first"
start_ttyaudit_containerd

# ttyaudit-runtime starts on every runc call: libraries that only some paths need are opened
# when needed (libsystemd), or not used (libcrypto), since loading them cost more than the rest
# of a pass-through call.
if heavy=$(ldd "$RT" | grep -E 'libsystemd|libcrypto|libssl'); then
  fail "ttyaudit-runtime links libraries every runc call would load: $heavy"
fi
ok "ttyaudit-runtime loads no libsystemd/libcrypto at start"

ctr_run_bg c1 "$T/rootfs" "$RT" -- sleep 1000
ok "ctr run --runc-binary ttyaudit-runtime"
out=$(ctr_exec c1 -- sh -c 'echo hello from c1')
assert_eq "$out" "hello from c1" "ctr task exec through ttyaudit-runtime"
ok "ctr task exec"

R="$RUNC_ROOT/$CTR_NS"
same_as_runc --version
same_as_runc --root "$R" state c1
# (ps's own options after the id: the default -ef has a CPU-% column that moves between calls.)
same_as_runc --root "$R" ps c1 -o pid,ppid,user,args
same_as_runc --root "$R" ps --format json c1
same_as_runc --root "$R" list
same_as_runc --root "$R" list --format json
same_as_runc --root "$R" kill c1 SIGCONT
same_as_runc --root "$R" state no-such-container
same_as_runc --root "$R" kill no-such-container KILL
same_as_runc --root "$R" delete no-such-container
same_as_runc --root "$R" --log "$T/l.json" --log-format json state no-such-container
same_as_runc --root "$R" exec c1 sh -c 'echo out; echo err >&2; exit 5'
same_as_runc --root "$R" exec --env A=1 --cwd /tmp c1 sh -c 'echo $A $(pwd)'
same_as_runc --root "$R" exec c1 /no/such/binary
same_as_runc no-such-subcommand

# events: one stats snapshot; the numbers move, the shape must not.
"$RUNC" --root "$R" events --stats c1 | jq -S '[paths | map(tostring) | join(".")]' >"$T/want.keys"
"$RT" --root "$R" events --stats c1 | jq -S '[paths | map(tostring) | join(".")]' >"$T/got.keys"
cmp -s "$T/want.keys" "$T/got.keys" || fail "events --stats: different fields"
ok "events --stats: same fields"

# A non-terminal exec through containerd: same output and exit code as with plain runc, and a
# metadata-only record with the exit code.
ctr_run_bg plain "$T/rootfs" "$RUNC" -- sleep 1000
for id in plain c1; do
  rc=0
  ctr_exec "$id" -- sh -c 'echo line1; echo line2 >&2; exit 7' >"$T/$id.out" 2>"$T/$id.err" || rc=$?
  echo "$rc" >"$T/$id.rc"
done
assert_eq "$(cat "$T/c1.rc")" "$(cat "$T/plain.rc")" "non-terminal exec exit code"
assert_eq "$(cat "$T/c1.out")" "$(cat "$T/plain.out")" "non-terminal exec stdout"
assert_eq "$(cat "$T/c1.err")" "$(cat "$T/plain.err")" "non-terminal exec stderr"
ok "non-terminal ctr task exec: same output and exit code (7) as plain runc"

note=""
for _ in $(seq 50); do
  for id in $(sessions); do
    m=$(session_meta "$id")
    if [[ $(jq -r '.argv[2]' <<<"$m") == *"exit 7"* && $(jq -r .state <<<"$m") == exited ]]; then note=$m; fi
  done
  [[ -n $note ]] && break
  sleep 0.1
done
[[ -n $note ]] || fail "no sealed metadata record for the non-terminal exec (spool: $(ls "$SPOOL"))"
assert_eq "$(jq -r .terminal <<<"$note")" false "record: terminal"
assert_eq "$(jq -r .exit_code <<<"$note")" 7 "record: exit code"
assert_eq "$(jq -r .container_id <<<"$note")" c1 "record: container id"
assert_eq "$(jq -r .source <<<"$note")" runtime "record: source"
assert_eq "$(jq -r .bytes_out <<<"$note")" 0 "record: metadata only"
ok "non-terminal exec left a metadata-only record with exit code 7"

# containerd's own calls through the wrapper: ps, kill, delete.
cctr task ps c1 | grep -qE '^[0-9]+ ' || fail "ctr task ps c1"
cctr task kill -s KILL c1
wait_for 10 bash -c "! ctr --address '$CTR_SOCK' -n '$CTR_NS' task ls | grep -q '^c1 .*RUNNING'"
cctr task delete c1 >/dev/null
cctr container delete c1
ok "ctr task ps, kill, delete, container delete through ttyaudit-runtime"
[[ ! -s "$T/ttyaudit.log" ]] || { cat "$T/ttyaudit.log" >&2; fail "ttyaudit-runtime logged errors"; }
