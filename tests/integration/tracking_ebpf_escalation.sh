#!/usr/bin/env bash
# A privilege escalation is recorded from the kernel's view whatever the process's lifetime:
# an ordinary user (a uid of the test's own, no account's) runs a setuid-root program that
# calls setuid(0), drops back to the user with setuid() and exits at once. Its ids at the
# fork, the exec and the exit never show a real uid of 0, so only the syscall's own return
# can: the record must hold an escalation to uid 0 from that user, by that program, before its
# exit. The hub's eBPF source reads it at the return of the setuid-family syscalls (the
# kernel refuses fentry and kprobes on commit_creds here); the proc connector, the eBPF source
# disabled, reports commit_creds itself. Both must pass, each saying which source it was.
. "$(dirname "$0")/../lib/common.sh"

require_tracking
export TTYAUDIT_TRACKER_IDLE_S=2
user=$((40000 + RANDOM % 20000))
getent passwd "$user" >/dev/null && fail "uid $user is an account here: pick another"

chmod 711 "$T"
mkdir -m 755 "$T/bin"
cat >"$T/suid-drop.c" <<'C'
#include <unistd.h>
int main(void) {
  uid_t user = getuid();
  if (setuid(0) != 0) return 10;
  if (setuid(user) != 0) return 11;
  return getuid() == user && geteuid() == user ? 0 : 12;
}
C
cc -O2 -o "$T/bin/suid-drop" "$T/suid-drop.c"
chmod 4755 "$T/bin/suid-drop"

check() {  # SOURCE: runs the program as the user through a fresh hub reading with SOURCE
  local src=$1 f="$T/$1.json"
  stop_tracker_hub
  "$BIN/ttyaudit-tracker" track -- setpriv --reuid="$user" --regid="$user" --clear-groups \
    "$T/bin/suid-drop" >"$f" 2>"$T/$src.err" || fail "$src: track: $(cat "$T/$src.err")"
  assert_eq "$(jq -r .tracking.source "$f")" "$src" "tracking source"
  assert_eq "$(jq -r .tracking.lost_events "$f")" 0 "lost events"
  local rec
  rec=$(jq -c --arg p "$T/bin/suid-drop" '[.commands[] | select(.argv == [$p])] | first' "$f")
  [[ $rec != null ]] || fail "$src: no record of suid-drop: $(jq -c '[.commands[] | .argv]' "$f")"
  assert_eq "$(jq .exit_code <<<"$rec")" 0 "$src: suid-drop's exit code (setuid(0) and back worked)"
  local esc
  esc=$(jq -c --argjson r "$rec" --argjson u "$user" '[.escalations[] | select(.pid == $r.pid
    and .before.uid == $u and .after.uid == 0 and .after.euid == 0 and .to_root
    and .time <= $r.end)] | first' "$f")
  [[ $esc != null ]] ||
    fail "$src: no escalation of suid-drop from uid $user to uid 0 before its exit: $(jq -c .escalations "$f")"
  # The drop back to the user is a change too.
  jq -e --argjson r "$rec" --argjson u "$user" '.escalations[] | select(.pid == $r.pid
    and .before.uid == 0 and .after.uid == $u and .after.euid == $u)' "$f" >/dev/null ||
    fail "$src: the drop back to uid $user is not recorded: $(jq -c .escalations "$f")"
  echo "$src: $esc; lived $(jq '(.end - .start) * 1e6 | floor' <<<"$rec") us"
}

check ebpf
TTYAUDIT_TRACKER_EBPF=0 check proc_connector
ok "setuid(0) and back in a setuid program run by uid $user: an escalation to uid 0, eBPF and proc connector"
