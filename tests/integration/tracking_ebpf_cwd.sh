#!/usr/bin/env bash
# The hub's eBPF source walks a process's cwd in the kernel at its exec: 100 subshells that each
# cd into a directory 40 levels deep (one level's name with a space) and exec /bin/true, which
# exits at once, are 100 records with that cwd, 100 of 100, though each process is gone long
# before /proc could be read. With eBPF disabled the proc connector's cwd is read from /proc
# when the exec is seen, racing the exit: best-effort, reported.
. "$(dirname "$0")/../lib/common.sh"

require_tracking
export TTYAUDIT_TRACKER_IDLE_S=2
deep="$T/cwd"
for ((i = 0; i < 40; i++)); do deep+="/level-$i"; done
deep+="/with space"
mkdir -p "$deep"

session='i=0; while [ $i -lt 100 ]; do (cd "$1" && exec /bin/true cwdmark $i); i=$((i+1)); done'
marks='[.commands[] | select(.argv[0:2] == ["/bin/true", "cwdmark"] and (.argv | length) == 3)]'

run() {  # SOURCE
  local f="$T/$1.json"
  stop_tracker_hub
  "$BIN/ttyaudit-tracker" track -- sh -c "$session" sh "$deep" >"$f" 2>"$T/$1.err" ||
    fail "$1: track: $(cat "$T/$1.err")"
  assert_eq "$(jq -r .tracking.source "$f")" "$1" "tracking source"
  assert_eq "$(jq -r .tracking.lost_events "$f")" 0 "$1: lost events"
}

run ebpf
f="$T/ebpf.json"
assert_eq "$(jq "$marks | length" "$f")" 100 "eBPF: /bin/true cwdmark N with its full argv"
assert_eq "$(jq --arg d "$deep" "$marks | map(select(.cwd == \$d)) | length" "$f")" 100 \
  "eBPF: records with the deep cwd (others: $(jq -c --arg d "$deep" "$marks | map(select(.cwd != \$d) | .cwd) | unique" "$f" | tail -c 300))"
assert_eq "$(jq "$marks | map(select(.cwd_truncated or .cwd_unresolved)) | length" "$f")" 0 \
  "eBPF: cwds flagged incomplete"
ok "eBPF: 100 of 100 processes gone at once have the ${#deep}-byte cwd"

TTYAUDIT_TRACKER_EBPF=0 run proc_connector
f="$T/proc_connector.json"
# Every process is a record (101 execs: sh and the 100 /bin/true); argv and cwd best-effort.
execs=$(jq '[.commands[] | select(.exec)] | length' "$f")
((execs >= 101)) || fail "proc connector: only $execs exec records"
named=$(jq --arg d "$deep" "$marks | map(select(.cwd == \$d)) | length" "$f")
ok "proc connector: $named of $(jq "$marks | length" "$f") named processes have the deep cwd (best effort)"
