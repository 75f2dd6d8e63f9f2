#!/usr/bin/env bash
# `make demo`, run without a terminal (TTYAUDIT_DEMO_BATCH=1): it records the host shell, the
# kubectl-exec-shaped CRI session and the ctr session, replays with play, prints commands that
# run as pasted, and leaves no process behind; interrupted (SIGINT to its process group, as
# Ctrl-C sends it) midway, it stops everything it started too.
. "$(dirname "$0")/../lib/common.sh"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"

# demo_procs DIR: the pids of processes that belong to the demo whose state is DIR: they have
# its run dir in their environment, or sit in the cgroups named after it.
demo_procs() {
  DEMO_DIR="$1" python3 - <<'PY'
import os
d = os.environ["DEMO_DIR"]
suffix = d.rsplit(".", 1)[-1]
for p in os.listdir("/proc"):
    if not p.isdigit() or int(p) == os.getpid():
        continue
    try:
        env = open(f"/proc/{p}/environ", "rb").read().decode(errors="replace")
        cg = open(f"/proc/{p}/cgroup").read()
    except OSError:
        continue
    if f"TTYAUDIT_RUN_DIR={d}/run" in env.split("\0") or f"-{suffix}/" in cg or cg.rstrip().endswith(f"-{suffix}"):
        print(p)
PY
}
# no_demo_procs DIR: fails if any remain 15 s on.
no_demo_procs() {
  local left
  for _ in $(seq 30); do
    left=$(demo_procs "$1")
    [[ -z $left ]] && return 0
    sleep 0.5
  done
  for p in $left; do echo "left: $p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" >&2; done
  for p in $left; do kill -KILL "$p" 2>/dev/null || true; done
  fail "the demo left processes running"
}

# The whole demo.
rc=0
TTYAUDIT_DEMO_BATCH=1 timeout 600 bash "$ROOT/scripts/demo.sh" >"$T/demo.out" 2>&1 || rc=$?
dir=$(sed -n 's/^State for this demo: //p' "$T/demo.out")
[[ -n $dir && -d $dir ]] || fail "the demo printed no state dir: $(tail -20 "$T/demo.out")"
on_exit "rm -rf '$dir'"
assert_eq "$rc" 0 "demo's exit status: $(tail -20 "$T/demo.out")"
no_demo_procs "$dir"
ok "the demo ran to its end and left no process behind"

sessions=$(TTYAUDIT_CONFIG="$dir/config.json" "$BIN/ttyaudit" search --json)
host=$(jq -c 'select(.source == "host")' <<<"$sessions")
assert_eq "$(jq -r .exit_code <<<"$host")" 4 "the host shell's exit code"
cri=$(jq -c 'select(.namespace == "demo" and .pod == "web")' <<<"$sessions")
assert_eq "$(jq -r .container <<<"$cri")" shell "the kubectl exec session's container"
assert_eq "$(jq -r .exit_code <<<"$cri")" 3 "the kubectl exec session's exit code"
assert_contains "$(TTYAUDIT_CONFIG="$dir/config.json" "$BIN/ttyaudit" cat "$(jq -r .id <<<"$cri")")" \
  "typed through kubectl exec: 42" "the kubectl exec session's output"
ctr=$(jq -c 'select(.source == "runtime" and .namespace != "demo" and .terminal != false)' <<<"$sessions" |
  jq -c 'select([.commands[].argv | join(" ")] | any(test("touch evidence")))')
[[ -n $ctr ]] || fail "no ctr session that ran touch evidence: $sessions"
assert_eq "$(jq -r .exit_code <<<"$ctr")" 3 "the ctr session's exit code"
[[ $(jq -r '.key' <<<"$sessions" | grep -c .) -ge 3 ]] || fail "fewer than 3 sessions: $sessions"
ok "it recorded the host shell, the kubectl exec session through CRI and the ctr session"

grep -q '^\$ TTYAUDIT_CONFIG=.* play --speed 2 ' "$T/demo.out" || fail "the demo did not replay with play"
grep -q '^\$ .* cat ' "$T/demo.out" && fail "the demo replays with cat"
# Every ttyaudit command it showed runs as pasted, and says what the demo showed.
n=0
while IFS= read -r line; do
  cmd=${line#\$ }
  [[ $cmd == *"/ttyaudit search"* || $cmd == *"/ttyaudit play"* ]] || continue
  bash -c "$cmd" >"$T/pasted.out" 2>&1 || fail "[$cmd] fails as pasted: $(cat "$T/pasted.out")"
  n=$((n + 1))
done < <(grep '^\$ ' "$T/demo.out")
((n >= 4)) || fail "only $n search/play commands shown"
ok "the $n search and play commands it showed run as pasted"

# Interrupted once its containerd and pod run: Ctrl-C reaches the whole foreground group. The
# demo runs as from a terminal: in a process group of its own, SIGINT not ignored (a script's
# background job would start with it ignored).
TTYAUDIT_DEMO_BATCH=1 python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setsid()
os.execvp("bash", ["bash", sys.argv[1]])' "$ROOT/scripts/demo.sh" >"$T/int.out" 2>&1 &
demo=$!
track_pid "$demo"
wait_for 300 grep -q '== 3\. ' "$T/int.out"
dir2=$(sed -n 's/^State for this demo: //p' "$T/int.out")
on_exit "rm -rf '$dir2'"
[[ -n $(demo_procs "$dir2") ]] || fail "no demo process to interrupt"
kill -INT -- "-$demo"
rc=0
wait "$demo" || rc=$?
assert_eq "$rc" 130 "the interrupted demo's exit status: $(tail -5 "$T/int.out")"
no_demo_procs "$dir2"
ok "Ctrl-C stops everything the demo started"
