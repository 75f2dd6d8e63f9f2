# Sourced by the benchmark scripts that start servers through the test helpers (tests/lib/):
# a private scratch dir T, the track_pid/skip/fail/wait_for functions those helpers call, and a
# cleanup on exit that stops exactly the processes the script started. Set BENCH_NAME first (the
# prefix of messages and of the scratch dir). A bench never skips: a missing tool is a failure.
T=$(mktemp -d "${BENCH_TMP:-/tmp}/ttyaudit-bench-$BENCH_NAME.XXXXXX")
_pids=()
track_pid() { _pids+=("$1"); }
skip() { echo "$BENCH_NAME.sh: $*" >&2; exit 1; }
fail() { echo "$BENCH_NAME.sh: $*" >&2; exit 1; }
wait_for() {
  local secs=$1; shift
  for _ in $(seq $((secs * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  fail "timed out waiting for: $*"
}
cleanup() {
  for p in "${_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  chattr -R -i "$T" 2>/dev/null || true  # sealed spool files are immutable until uploaded
  rm -rf "$T"
}
trap cleanup EXIT
