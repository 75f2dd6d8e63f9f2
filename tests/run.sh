#!/usr/bin/env bash
# Runs the integration tests: every tests/integration/*.sh, one scenario each, as root; with
# --unit, the unit tests first (all of them), and a total of both at the end.
# A test exits 0 (pass), 77 (skipped; its last line says why) or anything else (fail). A skip
# counts as a failure unless the test is listed in may_skip below with the reason it gave.
# With --fuzz (after --unit), each fuzz target of $FUZZ_BUILD for $FUZZ_SECONDS from its corpus
# (fuzz/run.sh), each a test of its own in the summary and the total.
# Usage: tests/run.sh [--unit] [--fuzz] [NAME-SUBSTRING...]
set -u
cd "$(dirname "$0")/.."
export BUILD="${BUILD:-build}"
export TTYAUDIT_BIN="$PWD/$BUILD/bin"
# The tests that may skip, each with the start of the reason it may give: only what a machine
# of the kind the tests run on may be unable to do. A missing package is never one (make deps
# installs them all): the test fails. Any other skip fails the run.
declare -A may_skip=(
  [uploader_virtual_hosted]="cannot bind-mount a hosts file here"
)
logdir="$PWD/$BUILD/test-logs"
rm -rf "$logdir" && mkdir -p "$logdir"
unit_pass=0 unit_fail=0 unit_skip=0 unit_ran=0
fuzz_pass=0 fuzz_fail=0 fuzz_ran=0
if [[ ${1:-} == --unit ]]; then
  shift
  unit_ran=1
  echo "unit: $BUILD/bin/ttyaudit_tests"
  "$BUILD/bin/ttyaudit_tests" 2>&1 | tee "$logdir/unit.log"
  unit_rc=${PIPESTATUS[0]}
  # doctest's summary: "[doctest] test cases: N | N passed | N failed | N skipped".
  summary=$(sed 's/\x1b\[[0-9;]*m//g' "$logdir/unit.log" | grep '^\[doctest\] test cases:')
  if [[ $summary =~ \|\ *([0-9]+)\ passed\ *\|\ *([0-9]+)\ failed\ *\|\ *([0-9]+)\ skipped ]]; then
    unit_pass=${BASH_REMATCH[1]} unit_fail=${BASH_REMATCH[2]} unit_skip=${BASH_REMATCH[3]}
  fi
  # A crash, or an exit status the summary does not explain, fails too.
  if ((unit_rc != 0 && unit_fail == 0)); then
    unit_fail=1; echo "FAIL unit tests: exit status $unit_rc"
  fi
fi
if [[ ${1:-} == --fuzz ]]; then
  shift
  echo "fuzz: ${FUZZ_BUILD:-build-fuzz}/fuzz, ${FUZZ_SECONDS:-4}s each"
  bash fuzz/run.sh --seconds "${FUZZ_SECONDS:-4}" --build "${FUZZ_BUILD:-build-fuzz}" \
    --scratch "$logdir/fuzz" 2>&1 | tee "$logdir/fuzz.log"
  fuzz_pass=$(grep -c '^PASS fuzz ' "$logdir/fuzz.log")
  fuzz_fail=$(grep -c '^FAIL fuzz ' "$logdir/fuzz.log")
  ((fuzz_pass + fuzz_fail > 0)) || fuzz_fail=1  # no target ran: that fails too
  fuzz_ran=1
fi
pass=0 fail=0 skip=0 failed=()
# In a sanitizer build (make SANITIZE=ON), LeakSanitizer's check at a program's exit stops the
# world with clone, ptrace and /proc reads, which the seccomp filter of a sandboxed program kills
# (docs/SANDBOX.md). The programs the integration tests start run without it; ASan and UBSan stay
# on, and the unit tests above, which run the same code unsandboxed, keep the leak check.
if grep -q '^TTYAUDIT_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" 2>/dev/null; then
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
fi
# Tests keep their state under their own temp dirs; these are the machine's own defaults.
machine_paths=(/var/lib/ttyaudit /run/ttyaudit /var/log/ttyaudit.log /etc/ttyaudit)
preexisting=()
for p in "${machine_paths[@]}"; do [[ -e $p ]] && preexisting+=("$p"); done
# Processes a test left running: every process it starts inherits its run dir under its temp
# dir (tests/lib/common.sh), so any process that still has one after the test ended is left over.
# Each test's temp dir starts with an id of this run and test (TTYAUDIT_TEST_ID), so that the
# processes of tests that other runs (other checkouts) have going at the same time are never
# taken for this one's.
ntest=0
leftovers() {
  local p
  for p in /proc/[0-9]*; do
    [[ ${p#/proc/} == "$$" ]] && continue
    { tr '\0' '\n' <"$p/environ"; } 2>/dev/null |
      grep -q "^TTYAUDIT_RUN_DIR=/tmp/ttyaudit-t\\.$TTYAUDIT_TEST_ID" && echo "${p#/proc/}"
  done
  return 0
}
# Fails the test if anything it started is still running 10 s after it ended (a shim or the
# tracker hub may take a moment), and stops those processes.
check_leftovers() {  # NAME
  local left p
  for _ in $(seq 20); do
    left=$(leftovers)
    [[ -z $left ]] && return 0
    sleep 0.5
  done
  echo "FAIL $1 left processes running:"
  for p in $left; do echo "    | $p $({ tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null)"; done
  for p in $left; do kill -TERM "$p" 2>/dev/null; done
  sleep 1
  for p in $left; do kill -KILL "$p" 2>/dev/null; done
  return 1
}
for t in tests/integration/*.sh; do
  name=$(basename "$t" .sh)
  if (($#)); then
    match=0
    for f in "$@"; do [[ $name == *"$f"* ]] && match=1; done
    ((match)) || continue
  fi
  ntest=$((ntest + 1))
  export TTYAUDIT_TEST_ID="$$n$ntest-"  # short: the dir holds unix sockets (108 bytes a path)
  start=$(date +%s)
  timeout --kill-after=10 600 bash "$t" >"$logdir/$name.log" 2>&1
  rc=$?
  secs=$(($(date +%s) - start))
  if ((rc == 0)); then
    pass=$((pass + 1)); echo "PASS $name (${secs}s)"
  elif ((rc == 77)); then
    why=$(tail -n 1 "$logdir/$name.log")
    why=${why#skipped: }
    allowed=${may_skip[$name]:-}
    if [[ -n $allowed && $why == "$allowed"* ]]; then
      skip=$((skip + 1)); echo "SKIP $name: $why"
    else
      fail=$((fail + 1)); failed+=("$name")
      echo "FAIL $name (skipped, but it must run here: $why)"
      sed 's/^/    | /' "$logdir/$name.log" | tail -n 20
      rc=1
    fi
  else
    fail=$((fail + 1)); failed+=("$name"); echo "FAIL $name (rc=$rc, ${secs}s)"
    sed 's/^/    | /' "$logdir/$name.log" | tail -n 40
  fi
  if ! check_leftovers "$name" && ((rc == 0 || rc == 77)); then
    if ((rc == 0)); then pass=$((pass - 1)); else skip=$((skip - 1)); fi
    fail=$((fail + 1)); failed+=("$name")
  fi
done
for p in "${machine_paths[@]}"; do
  if [[ -e $p && " ${preexisting[*]} " != *" $p "* ]]; then
    fail=$((fail + 1)); echo "FAIL a test wrote to the machine's $p (tests must use their temp dir)"
  fi
done
echo "logs: $logdir"
((${#failed[@]} == 0)) || echo "failed: ${failed[*]}"
if ((unit_ran || fuzz_ran)); then
  ((unit_ran)) && echo "unit: $unit_pass passed, $unit_fail failed, $unit_skip skipped"
  ((fuzz_ran)) && echo "fuzz: $fuzz_pass passed, $fuzz_fail failed"
  echo "integration: $pass passed, $fail failed, $skip skipped"
  echo "total: $((unit_pass + fuzz_pass + pass)) passed," \
    "$((unit_fail + fuzz_fail + fail)) failed, $((unit_skip + skip)) skipped"
else
  echo "integration: $pass passed, $fail failed, $skip skipped"
fi
((fail == 0 && unit_fail == 0 && fuzz_fail == 0))
