#!/usr/bin/env bash
# `make demo`: ttyaudit end to end on this machine, with nothing installed system-wide.
#   1. a host shell recorded with `ttyaudit rec`;
#   2. a `kubectl exec -it`-shaped session: a private containerd's CRI plugin runs a pod with the
#      "ttyaudit" runtime handler of examples/containerd/config.toml, and the exec is driven
#      over CRI's streaming server as kubelet and kubectl drive it (tests/lib/cri.py);
#   3. an interactive `ctr task exec -t` in a container run through ttyaudit-runtime;
# then files them into a local archive with ttyaudit-uploader, searches, and replays with `play`.
# Every command it shows can be pasted as it stands (quoted, with the config it reads).
# Its state lives under one temporary directory, kept for you to explore. Ctrl-C, or the end,
# stops every daemon, container and pod it started (by pid; common.sh's exit trap).
# TTYAUDIT_DEMO_BATCH=1: no viewer at the end and no waiting (tests/integration/demo_batch.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export TTYAUDIT_BIN="$PWD/${BUILD:-build}/bin"
[[ $(id -u) == 0 ]] || { echo "make demo needs root (it runs a private containerd)"; exit 1; }
export KEEP_TMP=1
. tests/lib/common.sh
. tests/lib/rootfs.sh
. tests/lib/containerd.sh
. tests/lib/cri.sh
# A signal ends the script through its exit trap, which stops what it started.
trap 'echo; echo "Interrupted: stopping everything the demo started"; exit 130' INT TERM HUP
BATCH=${TTYAUDIT_DEMO_BATCH:-}
TA="$BIN/ttyaudit"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# quoted WORDS...: the words as one line that a shell reads back as the same words.
quoted() {
  local out="" w
  for w in "$@"; do out+="${out:+ }$(printf '%q' "$w")"; done
  printf '%s' "$out"
}
# show CMD...: prints CMD as it can be pasted (with the config it reads), then runs it.
show() {
  printf '$ TTYAUDIT_CONFIG=%q %s\n' "$TTYAUDIT_CONFIG" "$(quoted "$@")" >&2
  "$@"
}

use_ttyaudit_config
echo "State for this demo: $T"
echo "Its config: $TTYAUDIT_CONFIG (spool $SPOOL, archive $T/archive)"

step "1. Record a host shell session with ttyaudit rec"
script=$'echo hello from a recorded host shell\nid -un\nls / | head -3\nexit 4\n'
printf '$ printf %%s %q | TTYAUDIT_CONFIG=%q %s\n' "$script" "$TTYAUDIT_CONFIG" \
  "$(quoted "$TA" rec -- /bin/sh)" >&2
rc=0
printf %s "$script" | "$TA" rec -- /bin/sh || rc=$?
echo "(the shell exited with status $rc: rec passes it on)"

step "2. kubectl exec -it, as kubelet runs it: containerd's CRI plugin, runtime handler ttyaudit"
start_cri_containerd >/dev/null
echo "containerd runs with the CRI handler \"ttyaudit\" of examples/containerd/config.toml:"
sed 's/^/    /' "$T/handler.toml"
pod_id=$(cri_pod web demo ttyaudit)
cid=$(cri_container "$pod_id" web shell sleep 3600)
echo "pod demo/web (RuntimeClass handler ttyaudit) runs container \"shell\"; now the equivalent of"
echo "  kubectl exec -it -n demo web -c shell -- sh"
echo "over CRI's streaming server (WebSocket, v4.channel.k8s.io), typing, resizing and exiting 3:"
cat >"$T/kubectl-exec.json" <<'JSON'
[{"resize": [100, 30]}, {"expect": "/ #"},
 {"send": "echo typed through kubectl exec: $((6*7))\r"}, {"expect": "exec: 42"},
 {"send": "cat /etc/hostname; /bin/ls /bin | /bin/head -3\r"}, {"sleep": 0.5},
 {"resize": [120, 40]}, {"sleep": 0.3},
 {"send": "stty size\r"}, {"expect": "40 120"},
 {"send": "exit 3\r"}]
JSON
res=$(cri exec "$cid" "$T/kubectl-exec.json" --tty --stdin -- sh)
echo "--- what the kubectl client received (its escape sequences left out, as they could act"
echo "    on this terminal):"
jq -r .stdout <<<"$res" | sed 's|\x1b\[[0-9;?]*[ -/]*[@-~]||g; s|[\x01-\x08\x0b-\x1f\x7f]||g' |
  sed '/^$/d; s/^/    /'
echo "--- its exit status, from the error channel: $(jq -r .exit_code <<<"$res")"

step "3. Record an interactive ctr task exec -t in a container run through ttyaudit-runtime"
# The same containerd, in a namespace of its own (its cgroups are named after it).
CTR_NS="ttyaudit-demo-${T##*.}"
on_exit "CTR_NS=$CTR_NS _ctr_cleanup"
mkdir -p "$T/containerd/fifo"
ctr_run_bg demo "$T/rootfs" "$BIN/ttyaudit-runtime" -- sleep 3600
echo "container 'demo' runs under containerd with --runc-binary ttyaudit-runtime"
tmx new-session -d -s demo -x 100 -y 30 \
  "$(quoted ctr --address "$CTR_SOCK" --namespace "$CTR_NS" task exec -t \
    --fifo-dir "$T/containerd/fifo" --exec-id demo1 demo sh); sleep 600"
tmx_wait_text demo '#' 20
for line in 'echo typed inside the container' 'cd /tmp && /bin/touch evidence && ls -l evidence' \
  '(sleep 1; rm /tmp/evidence) & wait' 'exit 3'; do
  tmx send-keys -t demo "$line" Enter
  sleep 0.5
done
sleep 1
echo "--- what the client's terminal showed:"
tmx_screen demo | sed '/^$/d'

step "4. File the sealed sessions into the local archive (ttyaudit-uploader --once)"
for _ in $(seq 100); do  # the recorders seal their sessions as the execs end
  [[ $(ls "$SPOOL"/*.json 2>/dev/null | wc -l) -ge 3 ]] && break
  sleep 0.1
done
show "$BIN/ttyaudit-uploader" --once

step "5. Search"
show "$TA" search
echo
echo "The kubectl exec session, by namespace and pod as CRI named them:"
show "$TA" search --namespace demo --pod web --json | jq -c '{id, namespace, pod, container, image, exit_code}'
echo
echo "(found by a command it ran, from the process records: busybox runs some applets in-process,"
echo " with no process to record, so the demo calls /bin/touch by path)"
show "$TA" search --command 'touch evidence' --json |
  jq -c '{id, container_id, argv, exit_code, state, key, processes: [.commands[].argv | join(" ")]}'

step "6. Replay the kubectl exec session with its timing (play: safe for your terminal)"
id=$("$TA" search --namespace demo --pod web --json | jq -r .id | head -n 1)
show "$TA" play --speed 2 "$id"
echo
echo "Also, as plain asciicast v2 for asciinema:"
printf '$ TTYAUDIT_CONFIG=%q %s > %q\n' "$TTYAUDIT_CONFIG" "$(quoted "$TA" export "$id")" \
  "$T/session.cast"

step "7. Browse and replay in a web browser (ttyaudit serve, on loopback)"
# ---- SERVE: the viewer's step. `ttyaudit serve` is not in this build yet; once it is, this
# block starts it on loopback over the demo's archive and waits for Ctrl-C. --------------------
if [[ -z $BATCH ]] && "$TA" serve --help >/dev/null 2>&1; then
  port=8080
  printf '$ TTYAUDIT_CONFIG=%q %s\n' "$TTYAUDIT_CONFIG" \
    "$(quoted "$TA" serve --listen "127.0.0.1:$port")" >&2
  "$TA" serve --listen "127.0.0.1:$port" &
  track_pid $!
  echo "Open http://127.0.0.1:$port/ ; Ctrl-C stops the viewer and everything the demo started."
  wait
else
  echo "(no viewer: ttyaudit serve is not in this build, or TTYAUDIT_DEMO_BATCH is set)"
fi
# ---- end of the viewer's step -------------------------------------------------------------------

step "Done"
echo "On exit the demo stops the daemons, pods and containers it started; its state stays in $T."
echo "Explore it (paste as they stand):"
printf '  TTYAUDIT_CONFIG=%q %s\n' "$TTYAUDIT_CONFIG" "$(quoted "$TA" search)"
printf '  TTYAUDIT_CONFIG=%q %s\n' "$TTYAUDIT_CONFIG" "$(quoted "$TA" play "$id")"
printf '  rm -rf %q\n' "$T"
