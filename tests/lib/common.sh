# Shared helpers for integration tests. Source it first: `. "$(dirname "$0")/../lib/common.sh"`.
# Every test runs as root, keeps its state under $T (a fresh temp dir) and stops exactly the
# processes it started (track_pid), never the machine's own daemons.
set -euo pipefail
BIN="${TTYAUDIT_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/bin}"
# TTYAUDIT_TEST_ID (set by tests/run.sh) starts the name: the runner finds this test's processes
# by it.
T=$(mktemp -d "/tmp/ttyaudit-t.${TTYAUDIT_TEST_ID:-}XXXXXX")
# ttyaudit's run dir (container metadata, the tracker hub's socket) under $T too: every
# recorder and tracker a test starts inherits it.
export TTYAUDIT_RUN_DIR="$T/run"
# Search's catalog cache (catalog/catalog.h) under $T too, not in root's ~/.cache.
export TTYAUDIT_CACHE_DIR="$T/cache"
_pids=()
_cleanups=()

# Remembers a pid to SIGTERM (then SIGKILL) at exit.
track_pid() { _pids+=("$1"); }
# Runs a command at exit (before the pids are stopped).
on_exit() { _cleanups+=("$*"); }

_finish() {
  local rc=$?
  local c p
  for c in "${_cleanups[@]}"; do eval "$c" >/dev/null 2>&1 || true; done
  for p in "${_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${_pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  stop_tracker_hub
  if ((rc == 0)) || [[ -n "${KEEP_TMP:-}" ]]; then :; fi
  # Sealed spool files are immutable until the uploader takes them (record/spool_writer.h).
  [[ -n "${KEEP_TMP:-}" ]] || find "$T" -type f \( -name '*.cast' -o -name '*.json' \) \
    -exec chattr -i {} + 2>/dev/null || true
  [[ -n "${KEEP_TMP:-}" ]] || rm -rf "$T"
  exit "$rc"
}
trap _finish EXIT

# The pid of the tracker hub serving this test's run dir (recorders start it on demand, detached),
# empty when none runs. Checked by name, so that a reused pid is never taken for it.
tracker_hub_pid() {
  local f="${TTYAUDIT_RUN_DIR:-$T/run}/tracker.pid" p
  [[ -s $f ]] || return 0
  p=$(cat "$f")
  [[ $(cat "/proc/$p/comm" 2>/dev/null) == ttyaudit-track* ]] && echo "$p"
  return 0
}
# Stops this test's tracker hub, if one runs (SIGTERM, then SIGKILL).
stop_tracker_hub() {
  local p
  p=$(tracker_hub_pid)
  [[ -n $p ]] || return 0
  kill -TERM "$p" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
}

fail() { echo "FAIL: $*" >&2; exit 1; }
# Only for what this machine cannot do (never for a missing package: that fails, make deps
# installs it). tests/run.sh counts a skip as a failure unless the test is listed there as one
# that may skip for that reason.
skip() { echo "skipped: $*"; exit 77; }
ok() { echo "ok: $*"; }

# require_tracking [track options...]: the kernel's proc connector works here (checked without
# ttyaudit: a netlink socket joining the proc connector's group, which needs root in the host's
# network namespace), else the test skips; then `ttyaudit-tracker track OPTIONS -- true` must
# succeed, else the test fails: a crash or error of ttyaudit's own code is never a skip.
require_tracking() {
  local err rc=0
  err=$(python3 - 2>&1 <<'PY'
import os, socket, struct
s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 11)  # NETLINK_CONNECTOR
s.bind((0, 1))  # CN_IDX_PROC
op = struct.pack("I", 1)  # PROC_CN_MCAST_LISTEN
cn = struct.pack("IIIIHH", 1, 1, 0, 0, len(op), 0) + op  # cb_id {CN_IDX_PROC, CN_VAL_PROC}
s.send(struct.pack("IHHII", 16 + len(cn), 3, 0, 0, 0) + cn)  # NLMSG_DONE
PY
  ) || skip "the kernel's proc connector cannot be used here (root in the host's network namespace is needed): ${err##*$'\n'}"
  [[ -x "$BIN/ttyaudit-tracker" ]] || fail "no $BIN/ttyaudit-tracker (make)"
  "$BIN/ttyaudit-tracker" track "$@" -- true >"$T/probe.out" 2>"$T/probe.err" || rc=$?
  ((rc == 0)) || fail "ttyaudit-tracker track $* -- true exited $rc though the proc connector works: $(cat "$T/probe.err")"
  jq -e '.commands[0].exit_code == 0' "$T/probe.out" >/dev/null ||
    fail "ttyaudit-tracker track $* -- true recorded no exit of true: $(head -c 600 "$T/probe.out")"
}

# wait_for SECONDS CMD...: polls CMD every 0.1 s until it succeeds; fails the test on timeout.
wait_for() {
  local secs=$1; shift
  local n=$((secs * 10))
  for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  fail "timed out after ${secs}s waiting for: $*"
}

assert_eq() { [[ "$1" == "$2" ]] || fail "${3:-values differ}: got [$1], want [$2]"; }
assert_contains() { grep -qF -- "$2" <<<"$1" || fail "${3:-missing text}: [$2] not in output"; }

# A private tmux server for driving interactive programs: tmux_ NAME args...
TMUX_SOCK="$T/tmux.sock"
tmx() { tmux -S "$TMUX_SOCK" "$@"; }
on_exit "tmux -S '$TMUX_SOCK' kill-server"
# Screen text of a tmux pane.
tmx_screen() { tmx capture-pane -p -t "$1"; }
# Waits until the pane shows TEXT.
tmx_wait_text() {
  local pane=$1 text=$2 secs=${3:-10}
  local n=$((secs * 10))
  for _ in $(seq "$n"); do tmx_screen "$pane" | grep -qF -- "$text" && return 0; sleep 0.1; done
  echo "--- screen of $pane:" >&2; tmx_screen "$pane" >&2 || true
  fail "timed out after ${secs}s waiting for [$text] on $pane"
}
