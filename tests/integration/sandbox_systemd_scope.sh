#!/usr/bin/env bash
# Where systemd runs, a recorder asks it over D-Bus (libsystemd's sd-bus, opened with dlopen) for
# a transient scope of its own, ttyaudit-SESSION.scope in ttyaudit.slice, with MemoryMax and
# TasksMax from the config; systemd moves it there and the limits show in cgroupfs. The machine
# has no systemd running, so the test starts a real one (/usr/bin/systemd as PID 1 of new pid,
# mount and cgroup namespaces, in a cgroup of this test's, with a unit path of one empty target)
# and runs ttyaudit-rec inside its namespaces.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/sandbox.sh"

SYSTEMD=/usr/bin/systemd
[[ -x $SYSTEMD ]] || fail "no $SYSTEMD (Debian package systemd, make deps)"
[[ -d /sys/fs/cgroup/systemd || -f /sys/fs/cgroup/cgroup.controllers ]] ||
  fail "no systemd cgroup hierarchy to give the test's systemd"

mkdir -p "$T/units"
mkdir -p -m 0700 "$T/spool"  # as an install makes it: a looser spool is refused
printf '[Unit]\nDescription=ttyaudit test: the manager alone\n' >"$T/units/ttyaudit-test.target"
# The namespaces' setup, then systemd as their PID 1 (it knows a container by $container).
cat >"$T/inner.sh" <<'SH'
set -e
mount --make-rprivate /
mount -t tmpfs tmpfs /run
mount -t proc proc /proc
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  mount -t cgroup2 cgroup2 /sys/fs/cgroup
else
  mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup
  for h in systemd memory pids; do mkdir -p /sys/fs/cgroup/$h; done
  mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd
  mount -t cgroup -o memory cgroup /sys/fs/cgroup/memory
  mount -t cgroup -o pids cgroup /sys/fs/cgroup/pids
  mkdir -p /sys/fs/cgroup/unified
  mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified
fi
export SYSTEMD_UNIT_PATH=$1 container=ttyaudit-test
exec /usr/bin/systemd --system --unit=ttyaudit-test.target --log-target=kmsg
SH

# The test's own cgroup, which the namespaces' systemd sees as its root.
cg="ttyaudit-systemd-test-${T##*.}"
if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then hiers=(""); else hiers=(systemd memory pids unified); fi
for h in "${hiers[@]}"; do mkdir -p "/sys/fs/cgroup/$h/$cg"; done
remove_cgroups() {
  local h d
  for h in "${hiers[@]}"; do
    find "/sys/fs/cgroup/$h/$cg" -depth -type d 2>/dev/null | while read -r d; do rmdir "$d" 2>/dev/null; done
  done
  return 0
}
(
  for h in "${hiers[@]}"; do echo "$BASHPID" >"/sys/fs/cgroup/$h/$cg/cgroup.procs"; done
  exec unshare --pid --fork --mount --cgroup --uts bash "$T/inner.sh" "$T/units"
) >"$T/systemd.log" 2>&1 &
unshare_pid=$!
sd_pid=""
find_systemd() { sd_pid=$(pgrep -P "$unshare_pid" -x systemd) && [[ -n $sd_pid ]]; }
wait_for 10 find_systemd
# Stopped from outside: SIGKILL to a pid namespace's init ends everything in it.
on_exit "kill -KILL $sd_pid; sleep 0.5; remove_cgroups"
in_ns() { nsenter -t "$sd_pid" -m -p -C -- "$@"; }
running() { [[ $(in_ns systemctl is-system-running 2>/dev/null) == running ]]; }
wait_for 20 running
ok "a systemd runs as PID 1 of its own namespaces (pid $sd_pid here)"

mem=$((72 << 20))
in_ns env TTYAUDIT_RUN_DIR="$T/run" "$BIN/ttyaudit-rec" --spool "$T/spool" -q \
  --memory-max "$mem" --pids-max 20 -- sh -c 'sleep 4; echo scoped-done' >"$T/rec.out" 2>&1 &
nsenter_pid=$!
wait_for 10 bash -c "ls '$T/spool'/*.cast"
id=$(ls "$T/spool" | sed -n 's/\.cast$//p')
rec_pid=""
find_rec() {
  local p
  for p in $(pgrep -x ttyaudit-rec); do
    tr '\0' ' ' <"/proc/$p/cmdline" | grep -qF -- "--spool $T/spool" && rec_pid=$p && return 0
  done
  return 1
}
wait_for 5 find_rec
in_scope() { grep -q "/ttyaudit.slice/ttyaudit-$id.scope\$" "/proc/$rec_pid/cgroup"; }
for _ in $(seq 50); do in_scope && break; sleep 0.1; done
in_scope || { cat "$T/rec.out" "/proc/$rec_pid/cgroup" >&2; fail "the recorder is not in its scope"; }
ok "systemd moved the recorder into ttyaudit.slice/ttyaudit-$id.scope"
assert_eq "$(in_ns systemctl show -P MemoryMax "ttyaudit-$id.scope")" "$mem" "the scope's MemoryMax"
assert_eq "$(in_ns systemctl show -P TasksMax "ttyaudit-$id.scope")" 20 "the scope's TasksMax"
assert_eq "$(cgroup_limits "$rec_pid")" "$mem 20" "the scope's limits in cgroupfs (memory, pids)"
assert_sandboxed "$rec_pid" "the recorder in its scope" cap_kill,cap_linux_immutable,cap_net_admin,cap_sys_nice,cap_sys_ptrace
wait "$nsenter_pid" || { cat "$T/rec.out" >&2; fail "ttyaudit-rec in the namespaces failed"; }
assert_contains "$(cat "$T/rec.out")" "scoped-done" "the recorded command's output"
[[ -f "$T/spool/$id.json" ]] || fail "the session was not sealed"
assert_eq "$(jq -r .session.state "$T/spool/$id.json")" exited "state"
gone() { ! in_ns systemctl is-active -q "ttyaudit-$id.scope"; }
wait_for 5 gone
ok "limits in cgroupfs: memory $mem, pids 20; the session sealed; the scope gone with the recorder"
