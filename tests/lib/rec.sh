# Helpers for tests of `ttyaudit rec`. Source after common.sh.
export TTYAUDIT_CONFIG="$T/config.json"
SPOOL="$T/spool"
printf '{"spool_dir":"%s","archive_dir":"%s","fsync_interval_s":0.2}\n' "$SPOOL" "$T/archive" >"$TTYAUDIT_CONFIG"
TA="$BIN/ttyaudit"

# The single session in the spool (fails if there is not exactly one).
only_session_id() {
  local ids
  ids=$("$TA" search --json | jq -r .id)
  [[ $(wc -l <<<"$ids") == 1 && -n $ids ]] || fail "want exactly one session, got: [$ids]"
  echo "$ids"
}
session_field() { "$TA" search --json | jq -r "select(.id==\"$1\") | .$2"; }

# Starts `ttyaudit rec -- CMD...` in a fresh tmux pane WxH; the pane's shell writes rec's exit
# status to $T/rc when it ends.
rec_in_tmux() {
  local w=$1 h=$2; shift 2
  local cmd
  printf -v cmd '%q ' "$@"
  tmx new-session -d -s rec -x "$w" -y "$h" \
    "env TTYAUDIT_CONFIG=$TTYAUDIT_CONFIG TERM=xterm $TA rec -q -- $cmd; echo \$? > $T/rc; sleep 600"
  tmx set-option -t rec -g window-size manual >/dev/null 2>&1 || true
}
wait_rc() { wait_for "${1:-10}" test -s "$T/rc"; cat "$T/rc"; }

# The script of a session for the live tests: it prints session-started, then, for each of ROUNDS
# rounds, waits for $T/goN and prints mark-<its content>; then it waits for $T/end, prints
# last-line and exits with EXIT. Run it with `sh -c "$(live_marker_script ROUNDS EXIT)"`.
live_marker_script() {
  local rounds=$1 status=$2
  printf '%s' "echo session-started; for i in \$(seq $rounds); do
    while [ ! -s $T/go\$i ]; do sleep 0.02; done; echo \"mark-\$(cat $T/go\$i)\"; done
  while [ ! -e $T/end ]; do sleep 0.02; done; echo last-line; exit $status"
}

# Measures how soon a follower shows a live session's new output: for each of ROUNDS rounds, at a
# random point, it hands the session of live_marker_script a marker and times until OUT holds it.
# Fails a round over BOUND seconds (ERR's text in the message); `worst` is the largest delay.
measure_live_delays() {
  local rounds=$1 bound=$2 out=$3 err=$4 what=$5
  local i marker t0 t1 delay polls
  polls=$(awk -v b="$bound" 'BEGIN{printf "%d", (b + 1) * 100}')
  worst=0
  for i in $(seq "$rounds"); do
    sleep "0.$((RANDOM % 10))" # output at any point of the follower's cycle
    marker="round$i-$RANDOM$RANDOM"
    t0=$(date +%s.%N)
    echo "$marker" >"$T/go$i"
    for _ in $(seq "$polls"); do grep -q "mark-$marker" "$out" && break; sleep 0.01; done
    t1=$(date +%s.%N)
    grep -q "mark-$marker" "$out" || fail "round $i: not shown after $bound s + 1 s: $(cat "$err")"
    delay=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')
    echo "round $i: shown by $what after $delay s"
    awk -v d="$delay" -v b="$bound" 'BEGIN{exit !(d <= b)}' ||
      fail "round $i: $delay s, over the $bound s bound"
    worst=$(awk -v a="$worst" -v b="$delay" 'BEGIN{print (b > a ? b : a)}')
  done
}
