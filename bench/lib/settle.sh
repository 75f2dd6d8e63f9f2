# Sourced by the benchmark scripts: each timed run starts from a synced disk and an idle machine.
#   settle   writes back every dirty page (sync), so that no run pays for an earlier one's
#            files, then waits until the CPUs have been idle for BENCH_IDLE_PCT percent (90) of
#            half a second, for at most BENCH_IDLE_WAIT_S seconds (60); SETTLE_IDLE_PCT is the
#            idle share last measured, for the result to say how idle the machine was (on a
#            machine that stays busy the run starts anyway, and says so on stderr).
settle() {
  sync
  local deadline=$((SECONDS + ${BENCH_IDLE_WAIT_S:-60})) a b
  while :; do
    a=$(head -n 1 /proc/stat)
    sleep 0.5
    b=$(head -n 1 /proc/stat)
    # "cpu user nice system idle iowait irq softirq steal ...": idle and iowait over the total.
    SETTLE_IDLE_PCT=$(awk -v a="$a" -v b="$b" 'BEGIN {
      split(a, x, " "); split(b, y, " "); t = 0
      for (i = 2; i <= 9; i++) t += y[i] - x[i]
      printf "%d", (t > 0 ? 100 * ((y[5] - x[5]) + (y[6] - x[6])) / t : 100) }')
    ((SETTLE_IDLE_PCT >= ${BENCH_IDLE_PCT:-90})) && return 0
    if ((SECONDS >= deadline)); then
      echo "settle: the machine stayed busy (${SETTLE_IDLE_PCT}% idle); running anyway" >&2
      return 0
    fi
  done
}
