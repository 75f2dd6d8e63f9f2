#!/usr/bin/env bash
# `make demo`: ttyaudit end to end on this machine, with nothing installed system-wide.
# Records a host shell with `ttyaudit rec` and an interactive `ctr task exec -t` in a container
# run by a private containerd through ttyaudit-runtime, files both into a local archive with
# ttyaudit-uploader (the embedded default: no bucket), then searches and replays them.
# Everything lives under a temporary directory that is kept for you to explore; the daemons it
# starts are stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
export TTYAUDIT_BIN="$PWD/${BUILD:-build}/bin"
[[ $(id -u) == 0 ]] || { echo "make demo needs root (it runs a private containerd)"; exit 1; }
export KEEP_TMP=1
. tests/lib/common.sh
. tests/lib/rootfs.sh
. tests/lib/containerd.sh
TA="$BIN/ttyaudit"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*" >&2; "$@"; }

cat >"$T/config.json" <<JSON
{"spool_dir": "$T/spool", "archive_dir": "$T/archive", "log_file": "$T/ttyaudit.log"}
JSON
export TTYAUDIT_CONFIG="$T/config.json"
export TTYAUDIT_RUN_DIR="$T/run"  # container metadata from ttyaudit-hook
SPOOL="$T/spool"
echo "State for this demo: $T (config: $TTYAUDIT_CONFIG)"

step "1. Record a host shell session with ttyaudit rec"
printf 'echo hello from a recorded host shell\nid -un\nls / | head -3\nexit 4\n' |
  show "$TA" rec -- /bin/sh || echo "(the shell exited with status $?: rec passes it on)"

step "2. Record an interactive exec in a container run through ttyaudit-runtime"
start_containerd
make_busybox_rootfs "$T/rootfs"
ctr_run_bg demo "$T/rootfs" "$BIN/ttyaudit-runtime" -- sleep 3600
echo "container 'demo' runs under containerd with --runc-binary ttyaudit-runtime"
tmx new-session -d -s demo -x 100 -y 30 \
  "ctr --address $CTR_SOCK --namespace $CTR_NS task exec -t --fifo-dir $T/containerd/fifo --exec-id demo1 demo sh; sleep 600"
tmx_wait_text demo '#' 20
for line in 'echo typed inside the container' 'cd /tmp && /bin/touch evidence && ls -l evidence' \
            '(sleep 1; rm /tmp/evidence) & wait' 'exit 3'; do
  tmx send-keys -t demo "$line" Enter
  sleep 0.5
done
sleep 1
echo "--- what the client's terminal showed:"
tmx_screen demo | sed '/^$/d'

step "3. File the sealed sessions into the local archive (ttyaudit-uploader --once)"
show "$BIN/ttyaudit-uploader" --once

step "4. Search"
show "$TA" search
echo
echo "(found by a command it ran, from the process records: busybox runs some applets in-process,"
echo " with no process to record, so the demo calls /bin/touch by path)"
show "$TA" search --command 'touch evidence' --json |
  jq -c '{id, container_id, argv, exit_code, state, key, processes: [.commands[].argv | join(" ")]}'

step "5. Replay the container session exactly as the terminal showed it"
id=$("$TA" search --json | jq -r 'select(.source == "runtime") | .id' | tail -n 1)
show "$TA" cat "$id"
echo
echo "Also: asciinema cat <(\"$TA\" export $id)   or   $TA play $id"

step "Done"
echo "Explore: export TTYAUDIT_CONFIG=$T/config.json; $TA search; $TA play $id"
echo "Archive: $(find "$T/archive" -type f | head -4 | sed "s|$T/archive/||" | tr '\n' ' ')"
