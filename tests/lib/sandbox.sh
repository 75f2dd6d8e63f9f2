# Helpers for the sandbox tests (sandbox/sandbox.h). Source after common.sh.

# status_field PID NAME: a field of /proc/PID/status ("NoNewPrivs" -> "1").
status_field() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

# caps_of PID: the process's effective capabilities by name, comma-separated and sorted.
caps_of() {
  local eff
  eff=$(status_field "$1" CapEff)
  capsh --decode="0x$eff" | sed 's/.*=//' | tr ',' '\n' | grep -v '^$' | sort | paste -sd, -
}

# assert_sandboxed PID WHAT CAPS: PID runs with no_new_privs, a seccomp filter (mode 2) and
# exactly the effective capabilities CAPS (as caps_of prints them), in its bounding set too.
assert_sandboxed() {
  local pid=$1 what=$2 caps=$3
  assert_eq "$(status_field "$pid" NoNewPrivs)" 1 "$what: NoNewPrivs"
  assert_eq "$(status_field "$pid" Seccomp)" 2 "$what: Seccomp (2: a filter)"
  assert_eq "$(caps_of "$pid")" "$caps" "$what: CapEff"
  assert_eq "$(status_field "$pid" CapBnd)" "$(status_field "$pid" CapEff)" "$what: CapBnd"
  assert_eq "$(status_field "$pid" CapAmb)" 0000000000000000 "$what: CapAmb"
  ok "$what (pid $pid): NoNewPrivs 1, Seccomp 2, CapEff $caps"
}

# assert_threads_sandboxed PID WHAT: every thread of PID (/proc/PID/task/*) runs with
# no_new_privs and the seccomp filter, no capability that the process's main thread does not
# keep (effective, permitted, bounding) and no ambient one; the spool writer's fsync thread
# (named ttyaudit-fsync), which starts before the main thread drops its own, holds none at all.
# Call after assert_sandboxed PID.
assert_threads_sandboxed() {
  local pid=$1 what=$2 main_eff task tid n=0 fsync=0 eff prm bnd v
  main_eff=$(status_field "$pid" CapEff)
  for task in /proc/"$pid"/task/*; do
    tid=${task##*/}
    [[ -e $task/status ]] || continue  # a thread that ended meanwhile
    n=$((n + 1))
    assert_eq "$(status_field "$pid/task/$tid" NoNewPrivs)" 1 "$what thread $tid: NoNewPrivs"
    assert_eq "$(status_field "$pid/task/$tid" Seccomp)" 2 "$what thread $tid: Seccomp"
    assert_eq "$(status_field "$pid/task/$tid" CapAmb)" 0000000000000000 "$what thread $tid: CapAmb"
    eff=$(status_field "$pid/task/$tid" CapEff)
    prm=$(status_field "$pid/task/$tid" CapPrm)
    bnd=$(status_field "$pid/task/$tid" CapBnd)
    for v in "$eff" "$prm" "$bnd"; do
      (((0x$v & ~0x$main_eff) == 0)) ||
        fail "$what thread $tid ($(cat "$task/comm")): capabilities $v beyond the recorder's $main_eff"
    done
    if [[ $(cat "$task/comm") == ttyaudit-fsync ]]; then
      fsync=$((fsync + 1))
      assert_eq "$eff $prm $bnd" "0000000000000000 0000000000000000 0000000000000000" \
        "$what fsync thread $tid: CapEff CapPrm CapBnd"
    fi
  done
  assert_eq "$fsync" 1 "$what: fsync threads"
  ((n >= 2)) || fail "$what: only $n thread(s) in /proc/$pid/task"
  ok "$what: all $n threads have NoNewPrivs 1 and Seccomp 2, none more than CapEff $main_eff; the fsync thread has no capability"
}

# cgroup_limits PID: "MEMORY PIDS", the limits of the cgroup PID is in, read from cgroupfs
# (cgroup v2's memory.max and pids.max, else v1's memory.limit_in_bytes and pids.max).
cgroup_limits() {
  local pid=$1 v2 mem pids
  v2=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
  mem=$(sed -n 's/^[0-9]*:memory://p' "/proc/$pid/cgroup")
  pids=$(sed -n 's/^[0-9]*:pids://p' "/proc/$pid/cgroup")
  if [[ -n $mem ]]; then
    echo "$(cat "/sys/fs/cgroup/memory$mem/memory.limit_in_bytes") $(cat "/sys/fs/cgroup/pids$pids/pids.max")"
  else
    echo "$(cat "/sys/fs/cgroup$v2/memory.max") $(cat "/sys/fs/cgroup$v2/pids.max")"
  fi
}

# cgroup_path PID: the memory cgroup PID is in (v1's memory line, else v2's).
cgroup_path() {
  local p
  p=$(sed -n 's/^[0-9]*:memory://p' "/proc/$1/cgroup")
  [[ -n $p ]] || p=$(sed -n 's/^0:://p' "/proc/$1/cgroup")
  echo "$p"
}

# remove_session_cgroups SPOOL: removes the cgroups that the recorders of SPOOL's sessions made
# (ttyaudit/ID in each hierarchy; empty once they have exited).
remove_session_cgroups() {
  local f id d
  for f in "$1"/*.cast; do
    [[ -e $f ]] || continue
    id=$(basename "$f" .cast)
    for d in /sys/fs/cgroup/ttyaudit/"$id" /sys/fs/cgroup/*/ttyaudit/"$id"; do
      [[ -d $d ]] && rmdir "$d" 2>/dev/null
    done
  done
  return 0
}
