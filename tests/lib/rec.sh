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
