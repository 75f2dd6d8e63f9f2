#!/usr/bin/env bash
# `sh -c 'cat 50MiB-file; echo LAST-LINE'` in `ctr task exec -t`: the client gets every byte it
# gets with plain runc, LAST-LINE included, and so does the record.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rootfs.sh"
. "$(dirname "$0")/../lib/containerd.sh"

RUNC=$(command -v runc) || skip "runc not installed (make deps)"
start_ttyaudit_containerd
(set +o pipefail; yes 'the quick brown fox jumps over the lazy dog 0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ' |
  head -c $((50 << 20)) >"$T/rootfs/big.txt")
ctr_run_bg plain "$T/rootfs" "$RUNC" -- sleep 1000
ctr_run_bg rec "$T/rootfs" "$BIN/ttyaudit-runtime" -- sleep 1000

for id in plain rec; do
  start=$(date +%s.%N)
  ctr_exec_tty "$id" "bulk-$id" sh -c 'cat /big.txt; echo LAST-LINE' >"$T/$id.out" || fail "exec in $id"
  echo "$id: $(stat -c %s "$T/$id.out") bytes in $(echo "$(date +%s.%N) - $start" | bc) s"
done
tail -c 200 "$T/rec.out" | grep -q LAST-LINE || fail "LAST-LINE did not reach the client"
cmp "$T/plain.out" "$T/rec.out" || fail "the client's bytes differ from plain runc's"
ok "client: $(stat -c %s "$T/rec.out") bytes identical to plain runc's, LAST-LINE last"

id=$(session_with_argv "LAST-LINE")
[[ -n $id ]] || fail "no session recorded"
wait_sealed "$id" 30
session_output "$id" >"$T/recorded.out"
assert_eq "$(session_meta "$id" | jq -r .bytes_out)" "$(stat -c %s "$T/recorded.out")" "recorded bytes_out"
tail -c 200 "$T/recorded.out" | grep -q LAST-LINE || fail "LAST-LINE is not in the record"
# The client's own terminal (script's pty) turns each \n into \r\n once more on its way out.
perl -pe 's/\n/\r\n/g' "$T/recorded.out" | cmp - "$T/rec.out" ||
  fail "recorded output differs from what the client got"
ok "record: every byte the client got ($(stat -c %s "$T/recorded.out") before the client's terminal), LAST-LINE included"
