#!/usr/bin/env bash
# Runs the integration tests: every tests/integration/*.sh, one scenario each, as root.
# A test exits 0 (pass), 77 (skipped; its last line says why) or anything else (fail).
# Usage: tests/run.sh [NAME-SUBSTRING...]
set -u
cd "$(dirname "$0")/.."
export BUILD="${BUILD:-build}"
export TTYAUDIT_BIN="$PWD/$BUILD/bin"
pass=0 fail=0 skip=0 failed=()
# Tests keep their state under their own temp dirs; these are the machine's own defaults.
machine_paths=(/var/lib/ttyaudit /run/ttyaudit /var/log/ttyaudit.log /etc/ttyaudit)
preexisting=()
for p in "${machine_paths[@]}"; do [[ -e $p ]] && preexisting+=("$p"); done
# Processes a test left running: every process it starts inherits its run dir under its temp
# dir (tests/lib/common.sh), so any process that still has one after the test ended is left over.
leftovers() {
  local p
  for p in /proc/[0-9]*; do
    [[ ${p#/proc/} == "$$" ]] && continue
    { tr '\0' '\n' <"$p/environ"; } 2>/dev/null | grep -q '^TTYAUDIT_RUN_DIR=/tmp/ttyaudit-t\.' &&
      echo "${p#/proc/}"
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
logdir="$PWD/$BUILD/test-logs"
rm -rf "$logdir" && mkdir -p "$logdir"
for t in tests/integration/*.sh; do
  name=$(basename "$t" .sh)
  if (($#)); then
    match=0
    for f in "$@"; do [[ $name == *"$f"* ]] && match=1; done
    ((match)) || continue
  fi
  start=$(date +%s)
  timeout --kill-after=10 600 bash "$t" >"$logdir/$name.log" 2>&1
  rc=$?
  secs=$(($(date +%s) - start))
  if ((rc == 0)); then
    pass=$((pass + 1)); echo "PASS $name (${secs}s)"
  elif ((rc == 77)); then
    skip=$((skip + 1)); echo "SKIP $name: $(tail -n 1 "$logdir/$name.log")"
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
echo "integration: $pass passed, $fail failed, $skip skipped (logs in $logdir)"
((fail == 0))
