# A private containerd for one test: config, root, state and socket under $T/containerd.
# Source after common.sh. Never touches /run/containerd or /etc/containerd.
#   start_containerd        starts it and waits for its socket; sets CTR_SOCK
#   cctr ARGS...            ctr against it (namespace $CTR_NS, default "ttyaudit-test")
#   ctr_run_bg ID ROOTFS RUNC [ctr run options...] -- CMD...   a detached container
#   ctr_exec ID [exec options...] -- CMD...                    ctr task exec
#   use_ttyaudit_config ['"key": value'...]  a config under $T (spool $T/spool) in
#                                        TTYAUDIT_CONFIG, and TTYAUDIT_RUN_DIR=$T/run
#   start_ttyaudit_containerd ['"key": value'...]  busybox rootfs in $T/rootfs, that config,
#                                        start_containerd (needs rootfs.sh)
#   sessions / session_meta ID / session_output ID            read what was recorded
# The namespace names the containers' cgroups (/sys/fs/cgroup/*/NAMESPACE/ID), which are the
# machine's: one per run, so that two runs at once (two worktrees) never kill each other's
# containers through a shared cgroup.
CTR_NS=${CTR_NS:-ttyaudit-test-${T##*.}}
# The shim runs runc with --root $RUNC_ROOT/$CTR_NS (containerd's default is under /run/containerd).
RUNC_ROOT="$T/runc"

# The part of a private containerd's config.toml that every test shares: its root, state and
# sockets under DIR, and the plugins it never needs switched off (EXTRA_DISABLED: more of them,
# each quoted and followed by ", ").
containerd_config() {
  local d=$1 extra=${2:-}
  cat <<TOML
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = [${extra}"io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$d/containerd.sock"
[ttrpc]
  address = "$d/containerd.sock.ttrpc"
[debug]
  address = "$d/debug.sock"
[metrics]
  address = ""
TOML
}

start_containerd() {
  command -v containerd >/dev/null || fail "containerd is not installed (make deps)"
  local d="$T/containerd"
  mkdir -p "$d/root" "$d/state" "$d/fifo"
  mkfifo "$T/no-input.fifo"  # ctr_exec_tty's stdin, made once (concurrent execs share it)
  CTR_SOCK="$d/containerd.sock"
  containerd_config "$d" '"io.containerd.grpc.v1.cri", ' >"$d/config.toml"
  containerd --config "$d/config.toml" >"$d/containerd.log" 2>&1 &
  CONTAINERD_PID=$!
  track_pid "$CONTAINERD_PID"
  # Containers still running when the test ends: their shims would outlive containerd.
  on_exit "_ctr_cleanup"
  wait_for 20 ctr --address "$CTR_SOCK" version
}

cctr() { ctr --address "$CTR_SOCK" --namespace "$CTR_NS" "$@"; }

# Kills and deletes every task and container in our namespace (their shims exit with them).
_ctr_cleanup() {
  local id
  for id in $(cctr task ls -q 2>/dev/null); do
    cctr task kill -s KILL "$id" 2>/dev/null || true
  done
  sleep 0.3
  for id in $(cctr task ls -q 2>/dev/null); do cctr task delete -f "$id" 2>/dev/null || true; done
  for id in $(cctr container ls -q 2>/dev/null); do cctr container delete "$id" 2>/dev/null || true; done
  rmdir /sys/fs/cgroup/*/"$CTR_NS" 2>/dev/null || true  # runc leaves the namespace's, empty
}

# ctr_run_bg ID ROOTFS RUNC [ctr run options...] -- CMD...: starts a detached container on a
# rootfs directory with the given runc binary and waits until its task runs.
ctr_run_bg() {
  local id=$1 rootfs=$2 runc=$3
  shift 3
  local opts=()
  while (($#)) && [[ $1 != -- ]]; do opts+=("$1"); shift; done
  [[ ${1:-} == -- ]] && shift
  cctr run -d --rootfs --fifo-dir "$T/containerd/fifo" --runc-binary "$runc" \
    --runc-root "$RUNC_ROOT" \
    --env PATH=/bin:/sbin:/usr/bin:/usr/sbin --env HOME=/root \
    "${opts[@]}" "$rootfs" "$id" "$@" >/dev/null
  wait_for 10 _ctr_task_running "$id"
}
_ctr_task_running() { cctr task ls | awk -v id="$1" '$1 == id && $3 == "RUNNING" {f=1} END {exit !f}'; }

# ctr_exec ID [exec options...] -- CMD...: `ctr task exec` with our fifo dir and a fresh exec id.
ctr_exec() {
  local id=$1
  shift
  local opts=()
  while (($#)) && [[ $1 != -- ]]; do opts+=("$1"); shift; done
  [[ ${1:-} == -- ]] && shift
  cctr task exec --fifo-dir "$T/containerd/fifo" --exec-id "e$RANDOM$RANDOM" "${opts[@]}" "$id" "$@"
}

# use_ttyaudit_config ['"key": value' ...]: writes $T/config.json with the spool in $T/spool and
# the log in $T/ttyaudit.log, plus the given members, and exports TTYAUDIT_CONFIG.
use_ttyaudit_config() {
  SPOOL="$T/spool"
  mkdir -p "$SPOOL"
  local extra=""
  local m
  for m in "$@"; do extra+=", $m"; done
  printf '{"spool_dir": "%s", "archive_dir": "%s", "log_file": "%s"%s}\n' "$SPOOL" "$T/archive" "$T/ttyaudit.log" "$extra" >"$T/config.json"
  export TTYAUDIT_CONFIG="$T/config.json"
  # The run directory (console sockets, the hook's container metadata, recorder registrations)
  # under $T too; containerd, its shims and ttyaudit-runtime inherit it.
  export TTYAUDIT_RUN_DIR="$T/run"
}

# start_ttyaudit_containerd ['"key": value'...]: how a runtime test starts: a busybox root
# filesystem in $T/rootfs, use_ttyaudit_config with the members given, then start_containerd.
start_ttyaudit_containerd() {
  make_busybox_rootfs "$T/rootfs"
  use_ttyaudit_config "$@"
  start_containerd
}

# Session ids in the spool, oldest first.
sessions() { ls "$SPOOL" 2>/dev/null | sed -n 's/\.cast$//p' | sort; }
# session_meta ID: the session's "ttyaudit" metadata object (from the sealed manifest when there
# is one, else the .cast header).
session_meta() {
  if [[ -f "$SPOOL/$1.json" ]]; then jq -c '.session' "$SPOOL/$1.json"
  else head -n 1 "$SPOOL/$1.cast" | jq -c '.ttyaudit'; fi
}
# session_events ID CODE: the data of every event with that code, one JSON string per line.
session_events() { tail -n +2 "$SPOOL/$1.cast" | jq -c --arg c "$2" 'select(.[1] == $c) | .[2]'; }
# session_output ID: the output bytes as recorded, decoded as record/asciicast.h writes them
# ("o" events; a "b" event carries the exact bytes of the event after it, in base64).
session_output() {
  python3 - "$SPOOL/$1.cast" <<'PY'
import base64, json, sys
out = sys.stdout.buffer
raw = None
with open(sys.argv[1], "rb") as f:
    f.readline()
    for line in f:
        try:
            t, code, data = json.loads(line)
        except ValueError:
            break  # a last line cut short
        if code == "b":
            raw = base64.b64decode(data)
            continue
        if code == "o":
            out.write(raw if raw is not None else data.encode())
        raw = None
PY
}
# wait_sealed ID: waits until the session's manifest exists (the recorder sealed it).
wait_sealed() { wait_for "${2:-10}" test -f "$SPOOL/$1.json"; }

# drive_tty_script NAME CLIENT-COMMAND: runs an interactive exec client in a tmux window
# (100x30) and types the standard script: a command, a resize to 120x40 and `stty size`, Ctrl-C
# of a sleep, a command after it, `exit 3`. Leaves the final screen in $T/NAME.screen.
drive_tty_script() {
  local s=$1 client=$2
  tmx new-session -d -s "$s" -x 100 -y 30 "$client; echo CLIENT-RC=\$?; sleep 600"
  tmx set-option -t "$s" window-size manual
  tmx_wait_text "$s" "/ #" 15
  tmx send-keys -t "$s" 'echo typed-$((6*7))' Enter
  tmx_wait_text "$s" "typed-42"
  tmx resize-window -t "$s" -x 120 -y 40
  sleep 0.5
  tmx send-keys -t "$s" 'stty size' Enter
  tmx_wait_text "$s" "40 120"
  tmx send-keys -t "$s" 'sleep 30' Enter
  sleep 0.5
  tmx send-keys -t "$s" C-c
  sleep 0.3
  tmx send-keys -t "$s" 'echo after-$((1+1))-ctrl-c' Enter
  tmx_wait_text "$s" "after-2-ctrl-c" 5
  tmx send-keys -t "$s" 'exit 3' Enter
  tmx_wait_text "$s" "CLIENT-RC=" 10
  tmx_screen "$s" >"$T/$s.screen"
}

# check_tty_script_record ID CONTAINER_ID: the record of drive_tty_script's session holds its
# output, input (with Ctrl-C), both sizes and exit status 3.
check_tty_script_record() {
  local id=$1 cid=$2 m out input sizes
  wait_sealed "$id"
  m=$(session_meta "$id")
  assert_eq "$(jq -r .state <<<"$m")" exited "state"
  assert_eq "$(jq -r .exit_code <<<"$m")" 3 "exit code"
  assert_eq "$(jq -r .container_id <<<"$m")" "$cid" "container id"
  assert_eq "$(jq -r .source <<<"$m")" runtime "source"
  assert_eq "$(jq -c .argv <<<"$m")" '["sh"]' "argv"
  # The bundle is the container's own (named after it, holding its config.json); the machine
  # id is this machine's.
  local bundle
  bundle=$(jq -r .bundle <<<"$m")
  [[ $bundle == /*/"$cid" && -f $bundle/config.json ]] || fail "bundle [$bundle] is not $cid's"
  assert_eq "$(jq -r .machine_id <<<"$m")" "$(cat /etc/machine-id)" "machine id"
  ok "metadata: exited 3, container, argv, bundle, machine id"
  out=$(session_output "$id")
  for want in typed-42 "40 120" after-2-ctrl-c "exit 3"; do assert_contains "$out" "$want" "recorded output"; done
  input=$(session_events "$id" i | jq -r . | tr -d '\r')
  assert_contains "$input" 'echo typed-$((6*7))' "recorded input"
  session_events "$id" i | grep -qF '\u0003' || fail "Ctrl-C not in the recorded input"
  sizes=$(session_events "$id" r | jq -r .)
  assert_contains "$sizes" "100x30" "initial size"
  assert_contains "$sizes" "120x40" "resized size"
  ok "record: output, input (with Ctrl-C), sizes 100x30 and 120x40"
  # The process tracker lists what ran, the interrupted sleep included.
  jq -e '[.commands[]?.argv | join(" ")] | index("sleep 30") != null' "$SPOOL/$id.json" >/dev/null ||
    fail "manifest commands lack sleep 30: $(jq -c '[.commands[]?.argv]' "$SPOOL/$id.json")"
  ok "manifest: the tracked processes include sleep 30"
  # Typed commands that ran a program are markers in the recording: a player's timeline.
  session_events "$id" m | jq -r . | grep -qx 'sleep 30' ||
    fail "no marker for the typed sleep 30: $(session_events "$id" m | tr '\n' ' ')"
  ok "recording: a marker for the typed sleep 30"
}

# terminal_sessions: ids of the recorded terminal sessions.
terminal_sessions() {
  local id
  for id in $(sessions); do [[ $(session_meta "$id" | jq -r .terminal) == true ]] && echo "$id"; done
  return 0
}

# ctr_exec_tty ID EXEC_ID CMD...: `ctr task exec -t` with a terminal (script(1) provides it);
# the client's output goes to stdout, its exit code is returned.
ctr_exec_tty() {
  local id=$1 eid=$2
  shift 2
  local cmd q
  cmd="ctr --address '$CTR_SOCK' -n '$CTR_NS' task exec --fifo-dir '$T/containerd/fifo' --exec-id $eid -t $id"
  for q in "$@"; do cmd+=" $(printf '%q' "$q")"; done
  # stdin: a FIFO opened read-write, which never reaches EOF (script(1) types something into
  # the session when its stdin ends, and the echo would land in the output at random).
  [[ -p "$T/no-input.fifo" ]] || mkfifo "$T/no-input.fifo" 2>/dev/null || [[ -p "$T/no-input.fifo" ]]
  script -qec "$cmd" /dev/null 0<>"$T/no-input.fifo"
}

# session_with_argv TEXT: the id of the session whose argv (joined) contains TEXT.
session_with_argv() {
  local id
  for id in $(sessions); do
    session_meta "$id" | jq -e --arg t "$1" '.argv | join(" ") | contains($t)' >/dev/null && echo "$id"
  done
  return 0
}

# same_as_runc ARGS...: stdout, stderr and exit code of "$RUNC ARGS" and "$RT ARGS" (ttyaudit's
# runtime) agree. runc's text-format errors on stderr carry a timestamp: compared without it.
same_as_runc() {
  local want_rc=0 got_rc=0 strip='s/time="[^"]*" //'
  "$RUNC" "$@" >"$T/want.out" 2>"$T/want.err" || want_rc=$?
  "$RT" "$@" >"$T/got.out" 2>"$T/got.err" || got_rc=$?
  assert_eq "$got_rc" "$want_rc" "exit code of [$*]"
  cmp -s "$T/want.out" "$T/got.out" || { diff "$T/want.out" "$T/got.out" >&2; fail "stdout of [$*] differs"; }
  assert_eq "$(sed -E "$strip" "$T/got.err")" "$(sed -E "$strip" "$T/want.err")" "stderr of [$*]"
  ok "same as runc: $* (rc $want_rc)"
}
